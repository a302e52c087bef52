//! MQTT over WebSocket (MQTT 5.0 §6): the upgrade request with `Sec-WebSocket-Protocol: mqtt`,
//! then a byte stream over binary frames.
//!
//! [`WsStream`] adapts tokio-tungstenite's message stream to `AsyncRead`/`AsyncWrite`: each
//! write becomes one binary frame, reads concatenate binary frames (a packet may span frames
//! and a frame may hold several packets), pings are answered by tungstenite, and a close frame
//! reads as end of file. A text frame is an error, as the spec requires binary frames.
//!
//! tungstenite buffers written frames until flushed, and the client engine never flushes, so
//! a write flushes as far as the socket allows and a pending flush is driven again by the next
//! read.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes};
use futures_util::sink::Sink;
use futures_util::stream::Stream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue, Request};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{error::ProtocolError, Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;
use tracing::debug;

use super::error::unwrap_io;
use super::{BoxStream, Endpoint, TransportError};

/// Frames and messages up to the largest MQTT packet (256 MiB plus header).
const MAX_MESSAGE: usize = 268_435_460;

/// Sends the upgrade request on `stream` and returns the WebSocket byte stream.
pub(super) async fn upgrade(
    stream: BoxStream,
    endpoint: &Endpoint,
    headers: &[(String, String)],
) -> Result<WsStream, TransportError> {
    let url = endpoint.to_string();
    let request = request(&url, headers)?;
    let (ws, response) =
        tokio_tungstenite::client_async_with_config(request, stream, Some(config()))
            .await
            .map_err(|e| upgrade_error(e, &url))?;
    debug!(%url, status = %response.status(), "WebSocket upgraded");
    Ok(WsStream::new(ws))
}

/// Frame and message limits fit for MQTT, for both ends.
pub(crate) fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE))
}

fn request(url: &str, headers: &[(String, String)]) -> Result<Request<()>, TransportError> {
    let mut request = url.into_client_request().map_err(|e| TransportError::Ws {
        url: url.to_string(),
        problem: e.to_string(),
    })?;
    let map = request.headers_mut();
    map.insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
    for (name, value) in headers {
        let header_error = |problem: String| TransportError::WsHeader {
            name: name.clone(),
            problem,
        };
        let name_ =
            HeaderName::from_bytes(name.as_bytes()).map_err(|e| header_error(e.to_string()))?;
        let value = HeaderValue::from_str(value).map_err(|e| header_error(e.to_string()))?;
        map.append(name_, value);
    }
    Ok(request)
}

fn upgrade_error(error: WsError, url: &str) -> TransportError {
    let url = url.to_string();
    match error {
        WsError::Http(response) => TransportError::WsRefused {
            url,
            status: response.status().to_string(),
        },
        WsError::Protocol(ProtocolError::SecWebSocketSubProtocolError(_)) => {
            TransportError::WsSubprotocol { url }
        }
        WsError::Protocol(ProtocolError::HandshakeIncomplete) | WsError::ConnectionClosed => {
            TransportError::WsClosed { url }
        }
        WsError::Io(e) => match unwrap_io(e) {
            Ok(transport) => transport,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => TransportError::WsClosed { url },
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                TransportError::WsClosed { url }
            }
            Err(e) => TransportError::Ws {
                url,
                problem: e.to_string(),
            },
        },
        other => TransportError::Ws {
            url,
            problem: other.to_string(),
        },
    }
}

fn to_io(error: WsError) -> io::Error {
    match error {
        WsError::Io(e) => e,
        WsError::ConnectionClosed | WsError::AlreadyClosed => {
            io::Error::new(io::ErrorKind::BrokenPipe, "the WebSocket is closed")
        }
        other => io::Error::new(io::ErrorKind::InvalidData, other),
    }
}

/// An upgraded WebSocket connection as a byte stream (the broker's WebSocket listeners use it
/// too).
pub(crate) struct WsStream {
    ws: WebSocketStream<BoxStream>,
    /// The rest of the last binary frame.
    read: Bytes,
    /// Frames were queued but not yet flushed to the socket.
    unflushed: bool,
    eof: bool,
}

impl WsStream {
    /// The byte stream of an upgraded connection.
    pub(crate) fn new(ws: WebSocketStream<BoxStream>) -> WsStream {
        WsStream {
            ws,
            read: Bytes::new(),
            unflushed: false,
            eof: false,
        }
    }

    /// Flushes queued frames if any; `Pending` leaves them for the next read or write.
    fn drive_flush(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        if self.unflushed {
            if let Poll::Ready(r) = Pin::new(&mut self.ws).poll_flush(cx) {
                self.unflushed = false;
                r.map_err(to_io)?;
            }
        }
        Ok(())
    }
}

impl AsyncRead for WsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            if !self.read.is_empty() {
                let n = self.read.len().min(buf.remaining());
                buf.put_slice(&self.read[..n]);
                self.read.advance(n);
                return Poll::Ready(Ok(()));
            }
            if self.eof {
                return Poll::Ready(Ok(()));
            }
            self.drive_flush(cx)?;
            match ready!(Pin::new(&mut self.ws).poll_next(cx)) {
                Some(Ok(Message::Binary(data))) => self.read = data,
                Some(Ok(Message::Close(_))) | None => self.eof = true,
                Some(Err(WsError::ConnectionClosed | WsError::AlreadyClosed)) => self.eof = true,
                Some(Ok(Message::Text(_))) => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "the server sent a WebSocket text frame (MQTT needs binary frames)",
                    )))
                }
                Some(Ok(_ping_pong_or_frame)) => {}
                Some(Err(e)) => return Poll::Ready(Err(to_io(e))),
            }
        }
    }
}

impl AsyncWrite for WsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        ready!(Pin::new(&mut self.ws).poll_ready(cx)).map_err(to_io)?;
        let frame = Message::Binary(Bytes::copy_from_slice(buf));
        Pin::new(&mut self.ws).start_send(frame).map_err(to_io)?;
        self.unflushed = true;
        self.drive_flush(cx)?;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(Pin::new(&mut self.ws).poll_flush(cx)).map_err(to_io)?;
        self.unflushed = false;
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.ws).poll_close(cx).map_err(to_io)
    }
}
