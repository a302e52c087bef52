//! `mqpub -l`: turning each line of standard input into a message. `--line-format payload`
//! (mosquitto's `-l`) takes the line as the payload; `topic` reads `TOPIC<TAB>PAYLOAD`; `json`
//! reads one object per line, the same shape `mqsub --json` prints, so that
//! `mqsub --json | mqpub -l --line-format json` copies messages between brokers.

use std::num::NonZeroU16;

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::cli::encoding::Encoding;
use crate::cli::mqpub::LineFormat;
use crate::protocol::{MqttString, PayloadFormat, PublishProperties, QoS, UserProperties};
use crate::topic::TopicName;

use super::Template;

/// Parses one line (without its `\n`) into a message built on `template`.
pub fn parse(
    line: &[u8],
    format: LineFormat,
    template: &Template,
) -> Result<crate::protocol::Publish, String> {
    match format {
        LineFormat::Payload => {
            let payload = template.encoding.decode_bytes(line)?;
            template.message(None, payload)
        }
        LineFormat::Topic => {
            let tab = memchr::memchr(b'\t', line).ok_or("no tab between topic and payload")?;
            let topic = std::str::from_utf8(&line[..tab]).map_err(|_| "the topic is not UTF-8")?;
            let payload = template.encoding.decode_bytes(&line[tab + 1..])?;
            template.message(Some(topic), payload)
        }
        LineFormat::Json => json(line, template),
    }
}

fn json(line: &[u8], template: &Template) -> Result<crate::protocol::Publish, String> {
    let value: Value = serde_json::from_slice(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let Value::Object(obj) = value else {
        return Err("a JSON line must be an object".into());
    };
    let topic = match obj.get("topic") {
        Some(Value::String(t)) => Some(t.as_str()),
        None => None,
        Some(_) => return Err("\"topic\" must be a string".into()),
    };
    let encoding = match obj.get("payload_encoding").and_then(Value::as_str) {
        None => template.encoding,
        Some("utf8" | "utf-8") => Encoding::Utf8,
        Some("hex") => Encoding::Hex,
        Some("base64") => Encoding::Base64,
        Some(other) => return Err(format!("unknown payload_encoding '{other}'")),
    };
    let payload = match obj.get("payload") {
        None | Some(Value::Null) => Bytes::new(),
        Some(Value::String(s)) => encoding.decode(s)?,
        Some(other) => Bytes::from(other.to_string()),
    };
    let mut publish = template.message(topic, payload)?;
    if let Some(q) = obj.get("qos") {
        publish.qos = q
            .as_u64()
            .and_then(|q| u8::try_from(q).ok())
            .and_then(QoS::from_u8)
            .ok_or("\"qos\" must be 0, 1 or 2")?;
    }
    if let Some(r) = obj.get("retain") {
        publish.retain = r.as_bool().ok_or("\"retain\" must be true or false")?;
    }
    if let Some(props) = obj.get("properties") {
        let Value::Object(props) = props else {
            return Err("\"properties\" must be an object".into());
        };
        properties(props, &mut publish.properties)?;
    }
    Ok(publish)
}

/// Reads the PUBLISH properties a client may send; unknown keys are errors, so that a typo
/// does not silently drop a property.
fn properties(obj: &Map<String, Value>, p: &mut PublishProperties) -> Result<(), String> {
    for (key, value) in obj {
        match key.as_str() {
            "payload_format_indicator" => {
                p.payload_format_indicator = Some(match value.as_u64() {
                    Some(0) => PayloadFormat::Unspecified,
                    Some(1) => PayloadFormat::Utf8,
                    _ => return Err("payload_format_indicator must be 0 or 1".into()),
                })
            }
            "message_expiry_interval" => {
                p.message_expiry_interval = Some(
                    value
                        .as_u64()
                        .and_then(|v| u32::try_from(v).ok())
                        .ok_or("message_expiry_interval must be a number of seconds")?,
                )
            }
            "topic_alias" => {
                p.topic_alias = Some(
                    value
                        .as_u64()
                        .and_then(|v| u16::try_from(v).ok())
                        .and_then(NonZeroU16::new)
                        .ok_or("topic_alias must be 1 to 65535")?,
                )
            }
            "content_type" => p.content_type = Some(string(key, value)?),
            "response_topic" => {
                let t = string(key, value)?;
                p.response_topic = Some(TopicName::new(t.as_str()).map_err(|e| e.to_string())?)
            }
            "correlation_data" => p.correlation_data = Some(correlation(obj, value)?),
            "correlation_data_encoding" | "subscription_identifiers" => {}
            "user_properties" => p.user_properties = user_properties(value)?,
            other => return Err(format!("unknown property \"{other}\"")),
        }
    }
    Ok(())
}

fn string(key: &str, value: &Value) -> Result<MqttString, String> {
    let s = value
        .as_str()
        .ok_or(format!("\"{key}\" must be a string"))?;
    MqttString::new(s).map_err(|e| format!("\"{key}\": {e}"))
}

fn correlation(obj: &Map<String, Value>, value: &Value) -> Result<Bytes, String> {
    let s = value
        .as_str()
        .ok_or("\"correlation_data\" must be a string")?;
    match obj.get("correlation_data_encoding").and_then(Value::as_str) {
        Some("base64") => Encoding::Base64.decode(s),
        Some("hex") => Encoding::Hex.decode(s),
        _ => Ok(Bytes::copy_from_slice(s.as_bytes())),
    }
}

/// `[["k","v"], ...]`, `[{"key":"k","value":"v"}, ...]` or `{"k":"v", ...}`.
fn user_properties(value: &Value) -> Result<UserProperties, String> {
    let bad = || "user_properties must be [[key, value], ...] or {key: value, ...}".to_string();
    let pair = |k: &Value, v: &Value| -> Result<(MqttString, MqttString), String> {
        Ok((
            string("user property key", k)?,
            string("user property value", v)?,
        ))
    };
    match value {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| pair(&Value::String(k.clone()), v))
            .collect(),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::Array(kv) if kv.len() == 2 => pair(&kv[0], &kv[1]),
                Value::Object(o) => match (o.get("key"), o.get("value")) {
                    (Some(k), Some(v)) => pair(k, v),
                    _ => Err(bad()),
                },
                _ => Err(bad()),
            })
            .collect(),
        _ => Err(bad()),
    }
}
