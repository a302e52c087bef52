//! `-d`: one line per packet sent or received, worded as libmosquitto's clients word them
//! (`Client ID sending PUBLISH (d0, q1, r0, m1, 'a/b', ... (5 bytes))`), so that scripts and
//! habits built on `mosquitto_pub -d` keep working. Like mosquitto, the lines go to stdout.

use std::io::Write;

use crate::protocol::{Packet, ProtocolVersion, Publish};

/// Where `-d` lines go and which client id they name.
pub struct PacketLog {
    out: Box<dyn Write + Send>,
    id: String,
}

impl PacketLog {
    /// A log writing to `out` for the client `id` (`(null)` while it is empty, as mosquitto).
    pub fn new(out: Box<dyn Write + Send>, id: &str) -> Self {
        let mut log = PacketLog {
            out,
            id: String::new(),
        };
        log.set_id(id);
        log
    }

    /// The stdout log mosquitto's clients keep.
    pub fn stdout(id: &str) -> Self {
        Self::new(Box::new(std::io::stdout()), id)
    }

    /// Names the client after the server assigned an id.
    pub fn set_id(&mut self, id: &str) {
        self.id = if id.is_empty() {
            "(null)".into()
        } else {
            id.into()
        };
    }

    /// Logs a packet going out.
    pub fn sent(&mut self, packet: &Packet, version: ProtocolVersion) {
        for detail in sent(packet, version) {
            self.line("sending", packet, &detail);
        }
    }

    /// Logs a packet that came in.
    pub fn received(&mut self, packet: &Packet) {
        if let Packet::ConnAck(c) = packet {
            if let Some(id) = &c.properties.assigned_client_identifier {
                self.set_id(id.as_str());
            }
        }
        self.line("received", packet, &received(packet));
    }

    /// Writes a line of the tool's own (mosquitto_sub's `Subscribed (mid: 1): 0`).
    pub fn note(&mut self, text: &str) {
        let _ = writeln!(self.out, "{text}");
        let _ = self.out.flush();
    }

    fn line(&mut self, verb: &str, packet: &Packet, detail: &str) {
        let name = packet.packet_type().name();
        let _ = writeln!(self.out, "Client {} {verb} {name}{detail}", self.id);
        let _ = self.out.flush();
    }
}

fn publish(p: &Publish) -> String {
    format!(" {}", p.log_summary(p.topic.as_str()))
}

/// The detail of each line for an outgoing packet (SUBSCRIBE gives one line per filter).
fn sent(packet: &Packet, version: ProtocolVersion) -> Vec<String> {
    let v5 = version == ProtocolVersion::V5;
    let one = match packet {
        Packet::Publish(p) => publish(p),
        Packet::PubAck(a) | Packet::PubRec(a) => {
            format!(" (m{}, rc{})", a.packet_id, a.reason_code.as_u8())
        }
        Packet::PubRel(a) | Packet::PubComp(a) => format!(" (m{})", a.packet_id),
        Packet::Subscribe(s) => {
            return s
                .subscriptions
                .iter()
                .map(|sub| {
                    let o = sub.options;
                    let options = if v5 { o.to_byte(version) & 0xfc } else { 0 };
                    format!(
                        " (Mid: {}, Topic: {}, QoS: {}, Options: 0x{options:02x})",
                        s.packet_id,
                        sub.filter,
                        o.qos.as_u8()
                    )
                })
                .collect()
        }
        Packet::Unsubscribe(u) => {
            return u
                .filters
                .iter()
                .map(|f| format!(" (Mid: {}, Topic: {f})", u.packet_id))
                .collect()
        }
        _ => String::new(),
    };
    vec![one]
}

fn received(packet: &Packet) -> String {
    match packet {
        Packet::ConnAck(c) => format!(" ({})", c.reason_code.as_u8()),
        Packet::Publish(p) => publish(p),
        Packet::PubAck(a) | Packet::PubComp(a) => {
            format!(" (Mid: {}, RC:{})", a.packet_id, a.reason_code.as_u8())
        }
        Packet::PubRec(a) | Packet::PubRel(a) => format!(" (Mid: {})", a.packet_id),
        _ => String::new(),
    }
}
