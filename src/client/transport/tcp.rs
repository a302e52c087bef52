//! The socket under every network transport: resolve the host, try each address in turn
//! (binding mosquitto's `-A` local address first when asked), set TCP_NODELAY when asked.
//! Also the Unix domain socket transport (`--unix`).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use tokio::net::{TcpSocket, TcpStream};
use tracing::{debug, warn};

use super::{BoxStream, TransportError};

/// Connects to `host:port`; the error names the host (DNS), the local address (bind) or
/// `host:port` (connect).
pub(super) async fn dial(
    host: &str,
    port: u16,
    bind: Option<IpAddr>,
    nodelay: bool,
) -> Result<TcpStream, TransportError> {
    let addrs = resolve(host, port).await?;
    let usable = addrs
        .iter()
        .filter(|a| bind.is_none_or(|b| b.is_ipv4() == a.is_ipv4()));
    let mut last = None;
    for &addr in usable {
        match dial_one(addr, bind).await {
            Ok(stream) => {
                debug!(%addr, "TCP connected");
                if nodelay {
                    if let Err(e) = stream.set_nodelay(true) {
                        warn!(error = %e, "cannot set TCP_NODELAY");
                    }
                }
                return Ok(stream);
            }
            Err(e) => {
                debug!(%addr, error = %e.1, "TCP connect failed");
                last = Some(e);
            }
        }
    }
    Err(match last {
        Some((Step::Bind(addr), error)) => TransportError::Bind { addr, error },
        Some((Step::Connect, error)) => connect_error(host, port, error),
        None => TransportError::NoAddress {
            host: host.to_string(),
            family: match bind {
                Some(IpAddr::V4(_)) => "IPv4 ",
                Some(IpAddr::V6(_)) => "IPv6 ",
                None => "",
            },
        },
    })
}

async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, TransportError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let addrs = tokio::net::lookup_host((host, port))
        .await
        .map_err(|error| TransportError::Resolve {
            host: host.to_string(),
            error,
        })?;
    Ok(addrs.collect())
}

enum Step {
    Bind(IpAddr),
    Connect,
}

async fn dial_one(addr: SocketAddr, bind: Option<IpAddr>) -> Result<TcpStream, (Step, io::Error)> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4(),
        SocketAddr::V6(_) => TcpSocket::new_v6(),
    }
    .map_err(|e| (Step::Connect, e))?;
    if let Some(ip) = bind {
        socket
            .bind(SocketAddr::new(ip, 0))
            .map_err(|e| (Step::Bind(ip), e))?;
    }
    socket.connect(addr).await.map_err(|e| (Step::Connect, e))
}

fn connect_error(host: &str, port: u16, error: io::Error) -> TransportError {
    let addr = match host.contains(':') {
        true => format!("[{host}]:{port}"),
        false => format!("{host}:{port}"),
    };
    match error.kind() {
        io::ErrorKind::ConnectionRefused => TransportError::Refused { addr },
        _ => TransportError::Connect { addr, error },
    }
}

/// Connects to a Unix domain socket.
#[cfg(unix)]
pub(super) async fn unix(path: &Path) -> Result<BoxStream, TransportError> {
    let stream = tokio::net::UnixStream::connect(path)
        .await
        .map_err(|error| TransportError::Unix {
            path: path.to_path_buf(),
            error,
        })?;
    debug!(path = %path.display(), "Unix socket connected");
    Ok(Box::new(stream))
}

/// Unix domain sockets do not exist here.
#[cfg(not(unix))]
pub(super) async fn unix(_path: &Path) -> Result<BoxStream, TransportError> {
    Err(TransportError::UnixUnsupported)
}
