//! `-D` / `--property CMD NAME VALUE`: MQTT 5.0 properties given on the command line, as
//! mosquitto's clients take them, checked against the packet they go in (5.0 §2.2.2.2) and
//! against what a client may send.
//!
//! Names are mosquitto's (`content-type`, `user-property`, ...). `user-property` takes a key and
//! a value; every other property one value. Binary properties (`correlation-data`,
//! `authentication-data`) take `--encoding` into account, so bytes that are not text can be
//! given as hex or base64 (mosquitto #3212).

use std::num::{NonZeroU16, NonZeroU32};
use std::str::FromStr;

use crate::protocol::{
    AckProperties, ConnectProperties, DisconnectProperties, MqttString, PayloadFormat,
    PublishProperties, SubscribeProperties, UserProperties, WillProperties,
};
use crate::topic::TopicName;

use super::encoding::Encoding;

/// The packet a `-D` property is for (the CMD argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// CONNECT.
    Connect,
    /// PUBLISH.
    Publish,
    /// PUBACK.
    PubAck,
    /// PUBREC.
    PubRec,
    /// PUBREL.
    PubRel,
    /// PUBCOMP.
    PubComp,
    /// SUBSCRIBE.
    Subscribe,
    /// UNSUBSCRIBE.
    Unsubscribe,
    /// DISCONNECT.
    Disconnect,
    /// AUTH: refused, since the clients do not do enhanced authentication (an AUTH exchange);
    /// mosquitto's accept the properties and never send them.
    Auth,
    /// The will message's properties (carried in CONNECT).
    Will,
}

impl Command {
    const NAMES: [(&'static str, Command); 11] = [
        ("connect", Command::Connect),
        ("publish", Command::Publish),
        ("puback", Command::PubAck),
        ("pubrec", Command::PubRec),
        ("pubrel", Command::PubRel),
        ("pubcomp", Command::PubComp),
        ("subscribe", Command::Subscribe),
        ("unsubscribe", Command::Unsubscribe),
        ("disconnect", Command::Disconnect),
        ("auth", Command::Auth),
        ("will", Command::Will),
    ];

    /// The upper-case name, as in the help text.
    pub fn name(self) -> String {
        Self::NAMES
            .iter()
            .find(|(_, c)| *c == self)
            .map_or_else(String::new, |(n, _)| n.to_ascii_uppercase())
    }
}

impl FromStr for Command {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let lower = s.to_ascii_lowercase();
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == lower)
            .map(|(_, c)| *c)
            .ok_or_else(|| format!("invalid command '{s}' in --property (CONNECT, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, UNSUBSCRIBE, DISCONNECT, AUTH or WILL)"))
    }
}

/// The properties given with `-D`, one set per packet they go in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties {
    /// For CONNECT.
    pub connect: ConnectProperties,
    /// For every PUBLISH the tool sends.
    pub publish: PublishProperties,
    /// For the will message.
    pub will: WillProperties,
    /// For SUBSCRIBE.
    pub subscribe: SubscribeProperties,
    /// User properties for UNSUBSCRIBE.
    pub unsubscribe: UserProperties,
    /// For DISCONNECT.
    pub disconnect: DisconnectProperties,
    /// For PUBACK, PUBREC, PUBREL and PUBCOMP, in `client::AckKind` order.
    pub acks: [AckProperties; 4],
    /// How many `-D` options were given (any forces MQTT 5.0).
    pub count: usize,
}

/// Which commands the tool accepts, e.g. mosquitto_pub takes no SUBSCRIBE properties.
pub type Allowed = &'static [Command];

impl Properties {
    /// Parses the values of every `-D` occurrence, in order (`CMD NAME VALUE` or
    /// `CMD user-property KEY VALUE`; the name says how many values follow), for a tool that
    /// accepts `allowed` commands. `encoding` applies to binary values.
    pub fn parse(args: &[String], allowed: Allowed, encoding: Encoding) -> Result<Self, String> {
        let mut props = Properties::default();
        let mut rest = args;
        while !rest.is_empty() {
            let len = match rest.get(1) {
                Some(name) if name == "user-property" => 4,
                _ => 3,
            };
            let (one, tail) = rest.split_at(len.min(rest.len()));
            props.add(one, allowed, encoding)?;
            rest = tail;
        }
        Ok(props)
    }

    fn add(&mut self, arg: &[String], allowed: Allowed, encoding: Encoding) -> Result<(), String> {
        let (cmd, name, values) = match arg {
            [cmd, name, values @ ..] if !values.is_empty() => (cmd, name.as_str(), values),
            _ => return Err("--property needs a command, a property name and a value".into()),
        };
        let cmd: Command = cmd.parse()?;
        if cmd == Command::Auth {
            return Err("AUTH properties are not supported: mqkit's clients do not do enhanced authentication".into());
        }
        if !allowed.contains(&cmd) {
            return Err(format!(
                "{} properties cannot be set in this tool",
                cmd.name()
            ));
        }
        match (name, values) {
            ("user-property", [key, value]) => {
                let pair = (mqtt_string(key)?, mqtt_string(value)?);
                self.user_properties(cmd)
                    .ok_or("no user properties for AUTH")?
                    .push(pair);
            }
            ("user-property", _) => {
                return Err(
                    "user-property needs a key and a value: -D CMD user-property KEY VALUE".into(),
                )
            }
            (_, [value]) => self.set(cmd, name, value, encoding)?,
            _ => return Err(format!("{name} takes one value")),
        }
        self.count += 1;
        Ok(())
    }

    fn user_properties(&mut self, cmd: Command) -> Option<&mut UserProperties> {
        Some(match cmd {
            Command::Connect => &mut self.connect.user_properties,
            Command::Publish => &mut self.publish.user_properties,
            Command::Will => &mut self.will.user_properties,
            Command::Subscribe => &mut self.subscribe.user_properties,
            Command::Unsubscribe => &mut self.unsubscribe,
            Command::Disconnect => &mut self.disconnect.user_properties,
            Command::Auth => return None,
            Command::PubAck => &mut self.acks[0].user_properties,
            Command::PubRec => &mut self.acks[1].user_properties,
            Command::PubRel => &mut self.acks[2].user_properties,
            Command::PubComp => &mut self.acks[3].user_properties,
        })
    }

    /// Sets one single-valued property, after checking it may go in `cmd` from a client.
    fn set(&mut self, cmd: Command, name: &str, v: &str, enc: Encoding) -> Result<(), String> {
        use Command::*;
        let not_allowed = || {
            format!(
                "{name} property not allowed for {} in --property",
                cmd.name()
            )
        };
        let p = name;
        match (cmd, p) {
            (Publish, "payload-format-indicator") => {
                self.publish.payload_format_indicator = Some(format(v)?)
            }
            (Will, "payload-format-indicator") => {
                self.will.payload_format_indicator = Some(format(v)?)
            }
            (Publish, "message-expiry-interval") => {
                self.publish.message_expiry_interval = Some(int(p, v)?)
            }
            (Will, "message-expiry-interval") => {
                self.will.message_expiry_interval = Some(int(p, v)?)
            }
            (Publish, "content-type") => self.publish.content_type = Some(mqtt_string(v)?),
            (Will, "content-type") => self.will.content_type = Some(mqtt_string(v)?),
            (Publish, "response-topic") => self.publish.response_topic = Some(topic(v)?),
            (Will, "response-topic") => self.will.response_topic = Some(topic(v)?),
            (Publish, "correlation-data") => self.publish.correlation_data = Some(enc.decode(v)?),
            (Will, "correlation-data") => self.will.correlation_data = Some(enc.decode(v)?),
            (Publish, "topic-alias") => self.publish.topic_alias = Some(non_zero_u16(p, v)?),
            (Will, "will-delay-interval") => self.will.will_delay_interval = Some(int(p, v)?),
            (Subscribe, "subscription-identifier") => {
                self.subscribe.subscription_identifier = Some(subscription_id(v)?)
            }
            (Connect, "session-expiry-interval") => {
                self.connect.session_expiry_interval = Some(int(p, v)?)
            }
            (Disconnect, "session-expiry-interval") => {
                self.disconnect.session_expiry_interval = Some(int(p, v)?)
            }
            (Connect, "receive-maximum") => {
                self.connect.receive_maximum = Some(non_zero_u16(p, v)?)
            }
            (Connect, "maximum-packet-size") => {
                self.connect.maximum_packet_size = Some(non_zero_u32(p, v)?)
            }
            (Connect, "topic-alias-maximum") => self.connect.topic_alias_maximum = Some(int(p, v)?),
            (Connect, "request-problem-information") => {
                self.connect.request_problem_information = Some(flag(p, v)?)
            }
            (Connect, "request-response-information") => {
                self.connect.request_response_information = Some(flag(p, v)?)
            }
            (Connect, "authentication-method") => {
                self.connect.authentication_method = Some(mqtt_string(v)?)
            }
            (Connect, "authentication-data") => {
                self.connect.authentication_data = Some(enc.decode(v)?)
            }
            (Disconnect, "reason-string") => self.disconnect.reason_string = Some(mqtt_string(v)?),
            (PubAck | PubRec | PubRel | PubComp, "reason-string") => {
                let i = [PubAck, PubRec, PubRel, PubComp]
                    .iter()
                    .position(|c| *c == cmd)
                    .unwrap_or(0);
                self.acks[i].reason_string = Some(mqtt_string(v)?);
            }
            (_, name) if KNOWN.contains(&name) => return Err(not_allowed()),
            _ => return Err(format!("invalid property name '{name}' in --property")),
        }
        Ok(())
    }
}

/// Every property name mosquitto knows, so that a real property in the wrong packet gets
/// "not allowed" rather than "invalid name".
const KNOWN: [&str; 27] = [
    "payload-format-indicator",
    "message-expiry-interval",
    "content-type",
    "response-topic",
    "correlation-data",
    "subscription-identifier",
    "session-expiry-interval",
    "assigned-client-identifier",
    "server-keep-alive",
    "authentication-method",
    "authentication-data",
    "request-problem-information",
    "will-delay-interval",
    "request-response-information",
    "response-information",
    "server-reference",
    "reason-string",
    "receive-maximum",
    "topic-alias-maximum",
    "topic-alias",
    "maximum-qos",
    "retain-available",
    "user-property",
    "maximum-packet-size",
    "wildcard-subscription-available",
    "subscription-identifier-available",
    "shared-subscription-available",
];

fn mqtt_string(s: &str) -> Result<MqttString, String> {
    MqttString::new(s).map_err(|e| format!("'{s}': {e}"))
}

fn topic(s: &str) -> Result<TopicName, String> {
    TopicName::new(s).map_err(|e| format!("invalid response topic '{s}': {e}"))
}

fn int<T: FromStr>(name: &str, v: &str) -> Result<T, String> {
    v.parse()
        .map_err(|_| format!("invalid value '{v}' for {name}: not a number in range"))
}

fn non_zero_u16(name: &str, v: &str) -> Result<NonZeroU16, String> {
    int(name, v)
}

fn non_zero_u32(name: &str, v: &str) -> Result<NonZeroU32, String> {
    int(name, v)
}

fn flag(name: &str, v: &str) -> Result<bool, String> {
    match v {
        "0" => Ok(false),
        "1" => Ok(true),
        _ => Err(format!("invalid value '{v}' for {name}: 0 or 1")),
    }
}

fn format(v: &str) -> Result<PayloadFormat, String> {
    match v {
        "0" => Ok(PayloadFormat::Unspecified),
        "1" => Ok(PayloadFormat::Utf8),
        _ => Err(format!(
            "invalid value '{v}' for payload-format-indicator: 0 or 1"
        )),
    }
}

fn subscription_id(v: &str) -> Result<NonZeroU32, String> {
    let id: NonZeroU32 = int("subscription-identifier", v)?;
    if id.get() > 268_435_455 {
        return Err(format!(
            "invalid value '{v}' for subscription-identifier: 1 to 268435455"
        ));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUB: Allowed = &[
        Command::Connect,
        Command::Publish,
        Command::PubRel,
        Command::Disconnect,
        Command::Will,
    ];

    fn parse(args: &[&[&str]]) -> Result<Properties, String> {
        let args: Vec<String> = args
            .iter()
            .flat_map(|a| a.iter().map(|s| s.to_string()))
            .collect();
        Properties::parse(&args, PUB, Encoding::Utf8)
    }

    #[test]
    fn sets_typed_values_in_their_packets() {
        let p = parse(&[
            &["PUBLISH", "content-type", "text/plain"],
            &["publish", "user-property", "k", "v"],
            &["PUBLISH", "user-property", "k", "w"],
            &["CONNECT", "session-expiry-interval", "30"],
            &["WILL", "will-delay-interval", "5"],
            &["PUBLISH", "correlation-data", "abc"],
        ])
        .unwrap();
        assert_eq!(p.publish.content_type.unwrap().as_str(), "text/plain");
        assert_eq!(p.publish.user_properties.len(), 2);
        assert_eq!(p.connect.session_expiry_interval, Some(30));
        assert_eq!(p.will.will_delay_interval, Some(5));
        assert_eq!(p.publish.correlation_data.unwrap(), &b"abc"[..]);
        assert_eq!(p.count, 6);
    }

    #[test]
    fn rejects_what_mosquitto_rejects() {
        let e = parse(&[&["PUBLISH", "foo", "x"]]).unwrap_err();
        assert_eq!(e, "invalid property name 'foo' in --property");
        let e = parse(&[&["SUBSCRIBE", "content-type", "x"]]).unwrap_err();
        assert!(e.contains("SUBSCRIBE properties cannot be set"), "{e}");
        let e = parse(&[&["CONNECT", "content-type", "x"]]).unwrap_err();
        assert_eq!(
            e,
            "content-type property not allowed for CONNECT in --property"
        );
        let e = parse(&[&["PUBLISH", "message-expiry-interval", "-1"]]).unwrap_err();
        assert!(e.contains("message-expiry-interval"), "{e}");
        let e = parse(&[&["PUBLISH", "user-property", "k"]]).unwrap_err();
        assert!(e.contains("key and a value"), "{e}");
        let e = parse(&[&["BOGUS", "content-type", "x"]]).unwrap_err();
        assert!(e.contains("invalid command 'BOGUS'"), "{e}");
        // A server-only property [MQTT-3.3.4-6]: clients do not send subscription ids in PUBLISH.
        let e = parse(&[&["PUBLISH", "subscription-identifier", "3"]]).unwrap_err();
        assert!(e.contains("not allowed for PUBLISH"), "{e}");
        let e = parse(&[&["PUBLISH", "topic-alias", "0"]]).unwrap_err();
        assert!(e.contains("topic-alias"), "{e}");
    }

    #[test]
    fn binary_values_follow_the_encoding() {
        let args = ["PUBLISH", "correlation-data", "00ff"].map(String::from);
        let p = Properties::parse(&args, PUB, Encoding::Hex).unwrap();
        assert_eq!(p.publish.correlation_data.unwrap(), &[0u8, 0xff][..]);
        let bad = ["PUBLISH", "correlation-data", "not base64!"].map(String::from);
        let e = Properties::parse(&bad, PUB, Encoding::Base64).unwrap_err();
        assert!(e.contains("base64"), "{e}");
    }
}
