//! mqkit's `--json` output: one JSON object per message (JSON Lines), binary safe.
//!
//! ```json
//! {"topic":"t/a","qos":1,"retain":false,"mid":7,"received_at":"2026-11-23T13:00:00.123456+01:00",
//!  "payload":"hello","payload_length":5,"properties":{"user_properties":[["a","b"]]}}
//! ```
//! (one line in real output). The choices:
//!
//! - `mid` (the packet identifier) is present only for QoS 1 and 2, as in mosquitto's `%j`.
//! - `received_at` is RFC 3339 in the local zone with microseconds.
//! - `payload` is a string when the payload is valid UTF-8 (U+0000 included, as `\u0000`);
//!   otherwise it is standard, padded base64 and `"payload_encoding":"base64"` follows. The key
//!   is absent for text, so `.payload_encoding == "base64"` is the one test a reader needs.
//!   `payload_length` counts the bytes of the payload, not of its encoding.
//! - `properties` is present only when the message has 5.0 properties, each under its
//!   snake_case name; `correlation_data` follows the payload's rule with
//!   `correlation_data_encoding`; `subscription_identifiers` is an array; `user_properties` is
//!   an array of `[key, value]` pairs, in order and with repeated keys kept.
//! - [`write_json_line`] writes no newline, like `Format::render`; the caller ends the line.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Local, SecondsFormat};
use serde::Serialize;

use super::Received;
use crate::protocol::{PayloadFormat, PublishProperties};

#[derive(Serialize)]
struct Line<'a> {
    topic: &'a str,
    qos: u8,
    retain: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    mid: Option<u16>,
    received_at: String,
    payload: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload_encoding: Option<&'static str>,
    payload_length: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<Properties<'a>>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Text<'a> {
    Utf8(&'a str),
    Base64(String),
}

/// `bytes` as text when it is UTF-8, else as base64 with the encoding's name.
fn text(bytes: &[u8]) -> (Text<'_>, Option<&'static str>) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (Text::Utf8(s), None),
        Err(_) => (Text::Base64(STANDARD.encode(bytes)), Some("base64")),
    }
}

#[derive(Serialize)]
struct Properties<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    payload_format_indicator: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message_expiry_interval: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    topic_alias: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_topic: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    correlation_data: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    correlation_data_encoding: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    subscription_identifiers: Vec<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    user_properties: Vec<[&'a str; 2]>,
}

impl<'a> Properties<'a> {
    /// The properties, or `None` when the message has none.
    fn of(props: &'a PublishProperties) -> Option<Self> {
        if *props == PublishProperties::default() {
            return None;
        }
        let (correlation_data, correlation_data_encoding) =
            match props.correlation_data.as_deref().map(text) {
                Some((data, encoding)) => (Some(data), encoding),
                None => (None, None),
            };
        Some(Properties {
            payload_format_indicator: props.payload_format_indicator.map(|f| match f {
                PayloadFormat::Unspecified => 0,
                PayloadFormat::Utf8 => 1,
            }),
            message_expiry_interval: props.message_expiry_interval,
            topic_alias: props.topic_alias.map(|a| a.get()),
            response_topic: props.response_topic.as_ref().map(|t| t.as_str()),
            correlation_data,
            correlation_data_encoding,
            content_type: props.content_type.as_ref().map(|c| c.as_str()),
            subscription_identifiers: props
                .subscription_identifiers
                .iter()
                .map(|i| i.get())
                .collect(),
            user_properties: props
                .user_properties
                .iter()
                .map(|(k, v)| [k.as_str(), v.as_str()])
                .collect(),
        })
    }
}

/// Appends `msg` as one JSON object, without a newline (see the module docs for the fields).
pub fn write_json_line(msg: &Received, out: &mut Vec<u8>) {
    let publish = &msg.publish;
    let (payload, payload_encoding) = text(&publish.payload);
    let received_at = DateTime::<Local>::from(msg.at).to_rfc3339_opts(SecondsFormat::Micros, false);
    let line = Line {
        topic: publish.topic.as_str(),
        qos: publish.qos.as_u8(),
        retain: publish.retain,
        mid: publish.packet_id.map(|id| id.get()),
        received_at,
        payload,
        payload_encoding,
        payload_length: publish.payload.len(),
        properties: Properties::of(&publish.properties),
    };
    // Serializing these types into a Vec cannot fail: every map key is a string and the
    // writer never errors.
    let _ = serde_json::to_writer(out, &line);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fixtures::{full_v5, instant, message};
    use bytes::Bytes;
    use proptest::prelude::*;
    use serde_json::{json, Value};

    fn line(msg: &Received) -> Vec<u8> {
        let mut out = Vec::new();
        write_json_line(msg, &mut out);
        out
    }

    fn value(msg: &Received) -> Value {
        let out = line(msg);
        assert!(!out.contains(&b'\n'), "one line, no newline");
        serde_json::from_slice(&out).unwrap()
    }

    fn local_instant() -> String {
        DateTime::<Local>::from(instant()).to_rfc3339_opts(SecondsFormat::Micros, false)
    }

    #[test]
    fn text_message() {
        let out = line(&message("t/a", b"hello"));
        let expected = format!(
            r#"{{"topic":"t/a","qos":0,"retain":false,"received_at":"{}","payload":"hello","payload_length":5}}"#,
            local_instant()
        );
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn received_at_is_rfc_3339_with_microseconds() {
        let v = value(&message("t", b""));
        let at = v["received_at"].as_str().unwrap();
        let parsed = DateTime::parse_from_rfc3339(at).unwrap();
        assert_eq!(parsed.timestamp(), 1_795_435_200);
        assert_eq!(parsed.timestamp_subsec_micros(), 123_456);
        // 2026-11-23T12:00:00.123456+00:00 has 32 characters, whatever the zone.
        assert_eq!(at.len(), 32, "{at}");
    }

    #[test]
    fn full_v5_message() {
        let v = value(&full_v5());
        assert_eq!(
            v,
            json!({
                "topic": "t/full",
                "qos": 1,
                "retain": true,
                "mid": 7,
                "received_at": local_instant(),
                "payload": "hello",
                "payload_length": 5,
                "properties": {
                    "payload_format_indicator": 1,
                    "message_expiry_interval": 100,
                    "topic_alias": 3,
                    "response_topic": "r/t",
                    "correlation_data": "corr1",
                    "content_type": "text/plain",
                    "subscription_identifiers": [5, 9],
                    "user_properties": [["a", "b"], ["a", "c"], ["k2", "v 2"]],
                }
            })
        );
    }

    #[test]
    fn binary_payload_is_base64() {
        let v = value(&message("t", b"\x00\xff\x00"));
        assert_eq!(v["payload"], "AP8A");
        assert_eq!(v["payload_encoding"], "base64");
        assert_eq!(v["payload_length"], 3);
    }

    #[test]
    fn nul_in_text_stays_text() {
        let out = line(&message("t", b"a\x00b"));
        assert!(String::from_utf8(out)
            .unwrap()
            .contains(r#""payload":"a\u0000b""#));
    }

    #[test]
    fn empty_payload_is_an_empty_string() {
        let v = value(&message("t", b""));
        assert_eq!(v["payload"], "");
        assert_eq!(v["payload_length"], 0);
        assert!(v.get("payload_encoding").is_none());
        assert!(v.get("mid").is_none());
        assert!(v.get("properties").is_none());
    }

    #[test]
    fn binary_correlation_data_is_base64() {
        let mut m = message("t", b"x");
        m.publish.properties.correlation_data = Some(Bytes::from_static(b"\xfe\x01"));
        let v = value(&m);
        assert_eq!(
            v["properties"],
            json!({"correlation_data": "/gE=", "correlation_data_encoding": "base64"})
        );
    }

    #[test]
    fn payload_format_zero_is_kept() {
        let mut m = message("t", b"x");
        m.publish.properties.payload_format_indicator = Some(PayloadFormat::Unspecified);
        assert_eq!(
            value(&m)["properties"],
            json!({"payload_format_indicator": 0})
        );
    }

    proptest! {
        #[test]
        fn any_payload_gives_json_that_decodes_to_the_same_bytes(
            payload in proptest::collection::vec(any::<u8>(), 0..256),
        ) {
            let v = value(&message("t", &payload));
            let text = v["payload"].as_str().unwrap();
            let back = match v.get("payload_encoding") {
                None => text.as_bytes().to_vec(),
                Some(e) => {
                    prop_assert_eq!(e, "base64");
                    STANDARD.decode(text).unwrap()
                }
            };
            prop_assert_eq!(v["payload_length"].as_u64(), Some(payload.len() as u64));
            prop_assert_eq!(back, payload);
        }

        #[test]
        fn any_text_payload_stays_text(payload in "\\PC*") {
            let v = value(&message("t", payload.as_bytes()));
            prop_assert_eq!(v["payload"].as_str(), Some(payload.as_str()));
            prop_assert!(v.get("payload_encoding").is_none());
        }
    }
}
