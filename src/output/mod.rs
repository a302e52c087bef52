//! Rendering received messages into bytes for mqsub's stdout: the plain and `-v` forms
//! ([`plain`]), mosquitto_sub's `-F` format language ([`mod@format`]) and mqkit's own JSON Lines
//! ([`json`]).
//!
//! Nothing here knows about sockets or stdout: each printer appends the bytes of one message
//! to a `Vec<u8>` and the caller writes the buffer out. [`Printer`] picks one of the three
//! outputs and owns the end-of-line rule (`-N`), so the tool has one call per message.
//!
//! Where mosquitto_sub 2.0 is the reference, the bytes are the same as Debian's
//! `mosquitto_sub` 2.0.11 prints (checked side by side in `tests/output_vs_mosquitto.rs`);
//! each deliberate difference is listed in the docs of the module that makes it.

use std::time::SystemTime;

use crate::protocol::Publish;

mod cjson;
pub mod format;
pub mod json;
pub mod plain;

pub use format::{Format, FormatError, RenderError};
pub use json::write_json_line;
pub use plain::{write_plain, Colour};

/// A message as the subscriber got it, with the time it was received.
///
/// The time is taken once, when the message arrives, so every time field of one `-F` line
/// (`%I`, `%U`, `@H`, `%j`'s `tst`...) shows the same instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The PUBLISH packet as decoded.
    pub publish: Publish,
    /// When it was received.
    pub at: SystemTime,
}

impl Received {
    /// A message received now.
    pub fn now(publish: Publish) -> Self {
        Received {
            publish,
            at: SystemTime::now(),
        }
    }
}

/// Which form mqsub prints messages in.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// The payload alone, or `topic payload` when `verbose` (`-v`).
    Plain {
        /// `-v`: print the topic before the payload.
        verbose: bool,
        /// Colour the topic.
        colour: Colour,
    },
    /// A `-F` format.
    Format {
        /// The parsed format.
        format: Format,
        /// `--pretty`: indent the JSON of `%j` and `%J`.
        pretty: bool,
    },
    /// `--json`: one JSON object per message.
    Json,
}

/// One output form and the end-of-line rule: everything mqsub needs to turn a message into
/// the bytes of its stdout.
#[derive(Debug, Clone, PartialEq)]
pub struct Printer {
    /// The form of each message.
    pub output: Output,
    /// End each message with `\n` (mosquitto's default; `-N` turns it off).
    pub eol: bool,
}

impl Printer {
    /// Appends the bytes for `msg`, end of line included, to `out`.
    ///
    /// An error means one `%J` piece was skipped because the payload is not JSON; the rest
    /// of the line is in `out` all the same (as mosquitto_sub does), and the caller reports
    /// the error on stderr.
    pub fn write(&self, msg: &Received, out: &mut Vec<u8>) -> Result<(), RenderError> {
        let result = match &self.output {
            Output::Plain { verbose, colour } => {
                // mosquitto_sub's plain forms have their own end-of-line rules for empty
                // payloads, so `write_plain` ends the line itself.
                write_plain(msg, *verbose, *colour, self.eol, out);
                return Ok(());
            }
            Output::Format { format, pretty } => format.render(msg, *pretty, out),
            Output::Json => {
                write_json_line(msg, out);
                Ok(())
            }
        };
        if self.eol {
            out.push(b'\n');
        }
        result
    }
}

/// Messages for the tests of the printers.
#[cfg(test)]
pub(crate) mod fixtures {
    use std::num::{NonZeroU16, NonZeroU32};
    use std::time::{Duration, SystemTime};

    use bytes::Bytes;

    use super::Received;
    use crate::protocol::{MqttString, PacketId, PayloadFormat, Publish, QoS};
    use crate::topic::TopicName;

    /// 2026-11-23T12:00:00.123456789Z.
    pub fn instant() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::new(1_795_435_200, 123_456_789)
    }

    /// A QoS 0 message without properties, received at [`instant`].
    pub fn message(topic: &str, payload: &[u8]) -> Received {
        let payload = Bytes::copy_from_slice(payload);
        let publish = Publish::new(TopicName::new(topic).unwrap(), payload);
        Received {
            publish,
            at: instant(),
        }
    }

    fn s(value: &str) -> MqttString {
        MqttString::new(value).unwrap()
    }

    /// A retained QoS 1 message (packet id 7) with every 5.0 property set.
    pub fn full_v5() -> Received {
        let mut m = message("t/full", b"hello");
        let p = &mut m.publish;
        p.qos = QoS::AtLeastOnce;
        p.packet_id = PacketId::new(7);
        p.retain = true;
        let props = &mut p.properties;
        props.payload_format_indicator = Some(PayloadFormat::Utf8);
        props.message_expiry_interval = Some(100);
        props.topic_alias = NonZeroU16::new(3);
        props.response_topic = Some(TopicName::new("r/t").unwrap());
        props.correlation_data = Some(Bytes::from_static(b"corr1"));
        props.user_properties = vec![(s("a"), s("b")), (s("a"), s("c")), (s("k2"), s("v 2"))];
        props.subscription_identifiers =
            vec![NonZeroU32::new(5).unwrap(), NonZeroU32::new(9).unwrap()];
        props.content_type = Some(s("text/plain"));
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topic::TopicName;

    fn msg(payload: &'static str) -> Received {
        let publish = Publish::new(TopicName::new("a/b").unwrap(), payload);
        Received::now(publish)
    }

    fn print(output: Output, eol: bool, m: &Received) -> Vec<u8> {
        let mut out = Vec::new();
        Printer { output, eol }.write(m, &mut out).unwrap();
        out
    }

    #[test]
    fn printer_adds_the_newline_unless_told_not_to() {
        let format = Output::Format {
            format: Format::parse("%t=%p").unwrap(),
            pretty: false,
        };
        assert_eq!(print(format.clone(), true, &msg("x")), b"a/b=x\n");
        assert_eq!(print(format, false, &msg("x")), b"a/b=x");
        let plain = Output::Plain {
            verbose: true,
            colour: Colour::Off,
        };
        assert_eq!(print(plain.clone(), true, &msg("x")), b"a/b x\n");
        assert_eq!(print(plain, false, &msg("")), b"");
    }

    #[test]
    fn printer_json_is_one_line_each() {
        let out = print(Output::Json, true, &msg("x"));
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
        assert!(out.ends_with(b"\n"));
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["payload"], "x");
    }

    #[test]
    fn printer_reports_a_skipped_json_piece_but_writes_the_rest() {
        let format = Format::parse("%J|%t").unwrap();
        let printer = Printer {
            output: Output::Format {
                format,
                pretty: false,
            },
            eol: true,
        };
        let mut out = Vec::new();
        let err = printer.write(&msg("not json"), &mut out).unwrap_err();
        assert_eq!(out, b"|a/b\n");
        assert_eq!(
            err.to_string(),
            "message payload is not valid JSON on topic a/b"
        );
    }
}
