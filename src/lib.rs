//! mqkit: an MQTT 3.1 / 3.1.1 / 5.0 toolkit.
//!
//! The crate is one library shared by its command-line tools. Its modules, from the wire up:
//!
//! - [`protocol`]: the packet model and the sans-IO codec ([`protocol::decode`],
//!   [`protocol::encode`]) for every control packet of MQTT 3.1, 3.1.1 and 5.0.
//! - [`topic`]: validated topic names and filters, matching with the `$` rule, and
//!   `$share/{group}/{filter}` shared subscriptions.
//! - [`broker`]: the embeddable broker engine ([`broker::serve`]).
//! - [`client`]: one MQTT connection with QoS flows and keep alive, for the client tools.
//! - [`output`]: received messages as bytes for mqsub: plain, `-v`, `-F` formats, JSON Lines.
//! - [`cli`] (clap definitions), [`tool`] (one runner per binary) and [`shutdown`]: what the
//!   thin binaries in `src/bin/` call.
//!
//! See `ARCHITECTURE.md` in the repository for the map and the design decisions.
//!
//! ```
//! use bytes::BytesMut;
//! use mqkit::protocol::{decode, encode, Packet, ProtocolVersion, Publish};
//! use mqkit::topic::TopicName;
//!
//! let publish = Publish::new(TopicName::new("sensors/kitchen")?, "21.5");
//! let mut buf = BytesMut::new();
//! encode(&Packet::Publish(publish.clone()), ProtocolVersion::V311, &mut buf)?;
//! assert_eq!(&buf[..], b"\x30\x15\x00\x0fsensors/kitchen21.5");
//! let decoded = decode(&mut buf, ProtocolVersion::V311, 1 << 20)?;
//! assert_eq!(decoded, Some(Packet::Publish(publish)));
//! assert!(buf.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// Input never panics the library; tests may unwrap.
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod bench;
pub mod broker;
pub mod cli;
pub mod client;
pub mod exit;
pub mod output;
pub mod protocol;
pub mod shutdown;
pub mod tool;
pub mod topic;
