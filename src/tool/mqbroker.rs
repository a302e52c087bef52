//! Runs the broker for the `mqbroker` binary: binds the listeners, writes the `pid_file`,
//! announces each listener on stdout, serves until the shutdown future completes.

use std::future::Future;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use anyhow::{bail, Context};
use tokio::net::TcpListener;

use crate::broker::conf::ConfFile;
use crate::broker::listener::{Listener, ListenerSpec};
use crate::broker::{Broker, Config};
use crate::cli::mqbroker::Args;

pub mod logging;

/// The port MQTT uses without TLS.
pub const DEFAULT_PORT: u16 = 1883;

/// Binds the `listener` blocks of a configuration file (no address: every IPv4 interface,
/// unless `socket_domain ipv6`).
async fn bind_listeners(specs: &[ListenerSpec]) -> anyhow::Result<Vec<Listener>> {
    let mut bound = Vec::new();
    for spec in specs {
        let listener = Listener::bind(spec)
            .await
            .map_err(|e| anyhow::anyhow!("listener {}: {e}", spec.port))?;
        bound.push(listener);
    }
    Ok(bound)
}

/// Binds every requested address and port. With no `--bind`, the loopback addresses: IPv4 must
/// work, IPv6 is skipped (with a warning) where the machine has none.
pub async fn bind(args: &Args) -> anyhow::Result<Vec<Listener>> {
    let ports = if args.ports.is_empty() {
        vec![DEFAULT_PORT]
    } else {
        args.ports.clone()
    };
    let (addrs, defaulted) = if args.bind.is_empty() {
        let loopback = [
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ];
        (loopback.to_vec(), true)
    } else {
        (args.bind.clone(), false)
    };
    let mut listeners = Vec::new();
    for &port in &ports {
        for &ip in &addrs {
            let addr = SocketAddr::new(ip, port);
            match TcpListener::bind(addr).await {
                Ok(l) => listeners.push(Listener::plain(l)),
                Err(e) if defaulted && ip.is_ipv6() => {
                    tracing::warn!("not listening on {addr}: {e}");
                }
                Err(e) => return Err(e).with_context(|| format!("cannot listen on {addr}")),
            }
        }
    }
    if listeners.is_empty() {
        bail!("no listener could be opened");
    }
    Ok(listeners)
}

/// Writes the ready line of each listener (`listening on mqtt://127.0.0.1:1883`, `mqtts://`,
/// `ws://`, `wss://`).
pub fn announce(listeners: &[Listener], out: &mut impl Write) -> anyhow::Result<()> {
    for l in listeners {
        writeln!(out, "listening on {}", l.url()?)?;
    }
    out.flush()?;
    Ok(())
}

/// A broker with the configuration's persistence: the store opened and what it holds restored,
/// or a clear error (a damaged file is never overwritten).
fn open_broker(config: Config) -> anyhow::Result<Broker> {
    if !config.persistence {
        return Ok(Broker::new(config));
    }
    let path = config.persistence_path();
    let (store, snapshot) = crate::broker::store::Store::open(&path)?;
    tracing::info!(
        "Restored {} sessions and {} retained messages from {}{}",
        snapshot.sessions.len(),
        snapshot.retained.len(),
        path.display(),
        match snapshot.skipped {
            0 => String::new(),
            n => format!(" ({n} damaged records skipped, see the warnings above)"),
        }
    );
    Ok(Broker::with_store(config, store, snapshot))
}

/// On every SIGHUP, reads the configuration file again and applies what can change while
/// running (password file, ACL file, limits; not the listeners), as mosquitto. A file with a
/// mistake is logged and the running configuration kept.
async fn reload_on_hangup(
    broker: Broker,
    path: std::path::PathBuf,
    mut hangups: tokio::signal::unix::Signal,
) {
    while hangups.recv().await.is_some() {
        match ConfFile::read(&path) {
            Ok(conf) => {
                broker.reload(conf.config);
                if let Err(e) = logging::reload(&conf.logging) {
                    tracing::warn!("Logging settings not reloaded: {e:#}");
                }
                tracing::info!("Reloaded {} (listeners unchanged)", path.display());
            }
            Err(e) => tracing::warn!("Reload failed, keeping the running configuration: {e}"),
        }
    }
}

/// Reads the configuration file `-c` names, if any (before logging starts: it says how).
pub fn load(args: &Args) -> anyhow::Result<Option<ConfFile>> {
    match &args.config {
        Some(path) if args.generate.is_none() && args.command.is_none() => {
            Ok(Some(ConfFile::read(path)?))
        }
        _ => Ok(None),
    }
}

/// The `pid_file`: holds the process id while the broker serves; removed when dropped.
struct PidFile(std::path::PathBuf);

impl PidFile {
    fn create(path: std::path::PathBuf) -> anyhow::Result<PidFile> {
        std::fs::write(&path, format!("{}\n", std::process::id()))
            .with_context(|| format!("pid_file {}: cannot write", path.display()))?;
        Ok(PidFile(path))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.0) {
            tracing::warn!("pid_file {}: cannot remove: {e}", self.0.display());
        }
    }
}

/// Binds, announces on `out` and serves until `shutdown` completes; `conf` is what [`load`]
/// read.
pub async fn run(
    args: Args,
    conf: Option<ConfFile>,
    out: &mut impl Write,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    if let Some(kind) = args.generate {
        use clap::CommandFactory;
        let section = crate::cli::mqbroker::MAN_SECTION;
        crate::cli::generate::generate(Args::command(), section, kind, out)?;
        return Ok(());
    }
    if let Some(crate::cli::mqbroker::Command::Passwd(passwd)) = &args.command {
        return super::passwd::run(passwd);
    }
    if args.test_config {
        for spec in conf.iter().flat_map(|c| &c.listeners) {
            spec.check()
                .map_err(|e| anyhow::anyhow!("listener {}: {e}", spec.port))?;
        }
        writeln!(out, "configuration file is valid")?;
        return Ok(());
    }
    let (config, listeners, pid_file) = match conf {
        Some(conf) if !conf.listeners.is_empty() => {
            let listeners = bind_listeners(&conf.listeners).await?;
            (conf.config, listeners, conf.pid_file)
        }
        Some(conf) => (conf.config, bind(&args).await?, conf.pid_file),
        None => (Config::default(), bind(&args).await?, None),
    };
    // After binding, as the brief for service managers says: the pid file means "serving".
    let _pid_file = pid_file.map(PidFile::create).transpose()?;
    if !config.allow_anonymous
        && config.password_file.is_none()
        && config.listener_security.is_empty()
    {
        tracing::warn!(
            "allow_anonymous is false and there is no password_file: no client can connect"
        );
    }
    if args.ports.is_empty() && args.bind.is_empty() && args.config.is_none() {
        tracing::info!(
            "no configuration: listening on localhost only, anonymous access, state in memory"
        );
    }
    let broker = open_broker(config)?;
    if let Some(path) = args.config.clone() {
        // Watch SIGHUP before announcing: a SIGHUP sent after the ready line must not kill us.
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::hangup()) {
            Ok(hangups) => drop(tokio::spawn(reload_on_hangup(
                broker.clone(),
                path,
                hangups,
            ))),
            Err(e) => tracing::warn!("cannot watch SIGHUP ({e}): no reloads"),
        }
    }
    announce(&listeners, out)?;
    broker
        .serve_listeners(listeners, shutdown)
        .await
        .context("broker failed")
}
