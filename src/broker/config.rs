//! The broker's settings, with mosquitto's defaults. The operations issue fills them from a
//! mosquitto.conf-style file; tests and `mqbench` set them directly.

use std::time::Duration;

use crate::protocol::QoS;

/// What a broker allows and how it behaves. [`Config::default`] is the zero-config broker.
#[derive(Debug, Clone)]
pub struct Config {
    /// Largest packet accepted from a client, fixed header included (mosquitto
    /// `max_packet_size`; 0 there means the protocol maximum, here the same as the default).
    pub max_packet_size: u32,
    /// Largest PUBLISH payload accepted; a larger one is dropped (5.0: acknowledged with 0x97)
    /// and the connection goes on; 0 is no limit (mosquitto `message_size_limit`).
    pub message_size_limit: u32,
    /// Outgoing QoS 1/2 messages in flight per client (mosquitto `max_inflight_messages`); a v5
    /// client's Receive Maximum lowers it.
    pub max_inflight_messages: u16,
    /// Payload bytes of outgoing QoS 1/2 messages in flight per client; 0 is no limit (mosquitto
    /// `max_inflight_bytes`). Whichever of this and `max_inflight_messages` is reached first
    /// applies.
    pub max_inflight_bytes: usize,
    /// Incoming QoS 2 messages a client may have unacknowledged: the Receive Maximum announced
    /// in CONNACK (5.0) when below 65,535.
    pub receive_maximum: u16,
    /// Messages queued per client beyond those in flight (mosquitto `max_queued_messages`).
    pub max_queued_messages: usize,
    /// Payload bytes queued per client beyond those in flight; 0 is no limit (mosquitto
    /// `max_queued_bytes`). Whichever of this and `max_queued_messages` is reached first
    /// applies.
    pub max_queued_bytes: usize,
    /// Queue QoS 0 messages for offline persistent sessions (mosquitto `queue_qos0_messages`).
    pub queue_qos0_messages: bool,
    /// Highest keep alive accepted; a v5 client asking for more is told Server Keep Alive.
    pub max_keepalive: u16,
    /// Highest QoS supported (mosquitto `max_qos`).
    pub max_qos: QoS,
    /// Whether retained messages are supported (mosquitto `retain_available`).
    pub retain_available: bool,
    /// Topic aliases a v5 client may use towards the broker (mosquitto `max_topic_alias`).
    pub max_topic_alias: u16,
    /// How often `$SYS/broker/...` is published; `None` turns `$SYS` off.
    pub sys_interval: Option<Duration>,
    /// How long a new socket may take to send CONNECT.
    pub connect_timeout: Duration,
    /// Expiry of persistent 3.1.1 sessions, and the cap on v5 session expiry; `None` is never
    /// (mosquitto `persistent_client_expiration`).
    pub persistent_client_expiration: Option<Duration>,
    /// Accept an empty client identifier and assign one (mosquitto
    /// `allow_zero_length_clientid`).
    pub allow_zero_length_clientid: bool,
    /// Prefix of assigned client identifiers (mosquitto `auto_id_prefix`).
    pub auto_id_prefix: String,
    /// Clients without a user name may connect (mosquitto `allow_anonymous`).
    pub allow_anonymous: bool,
    /// Users and their password hashes (mosquitto `password_file`); a client with a user name
    /// must match an entry.
    pub password_file: Option<std::sync::Arc<super::passwd::PasswordFile>>,
    /// Keep retained messages and persistent sessions on disk (mosquitto `persistence`).
    pub persistence: bool,
    /// The directory of the persistence file (mosquitto `persistence_location`); none is the
    /// working directory.
    pub persistence_location: Option<std::path::PathBuf>,
    /// The persistence file's name (mosquitto `persistence_file`).
    pub persistence_file: String,
    /// Who may publish and subscribe to what (mosquitto `acl_file`); none allows everything.
    pub acl_file: Option<std::sync::Arc<super::acl::AclFile>>,
    /// With `per_listener_settings true`: each listener's own `allow_anonymous`,
    /// `password_file` and `acl_file`, by the listener's place in the file.
    pub listener_security: Vec<Security>,
    /// Only client identifiers starting with this may connect, assigned ones included; others
    /// are refused with "not authorized" (mosquitto `clientid_prefixes`).
    pub clientid_prefixes: Option<String>,
    /// Set TCP_NODELAY on accepted sockets (mosquitto `set_tcp_nodelay`). mosquitto's default
    /// is false; mqbroker's is true, because it writes each batch of packets with as few
    /// syscalls as it can, so Nagle's algorithm only adds latency.
    pub set_tcp_nodelay: bool,
    /// Deliver with the subscription's QoS even when the message was published with a lower
    /// one (mosquitto `upgrade_outgoing_qos`; against [MQTT-3.8.4-6], on purpose).
    pub upgrade_outgoing_qos: bool,
    /// Deliver a retained message to a new subscriber only if the ACL in force still lets its
    /// publisher publish it (mosquitto `check_retain_source`).
    pub check_retain_source: bool,
}

impl Config {
    /// The QoS a message published with `published` is delivered with on a subscription
    /// granted `granted`: the lower of the two [MQTT-3.8.4-6], or `granted` with
    /// `upgrade_outgoing_qos`.
    pub fn delivery_qos(&self, published: QoS, granted: QoS) -> QoS {
        if self.upgrade_outgoing_qos {
            granted
        } else {
            published.min(granted)
        }
    }

    /// Whether the retained `message` may be delivered: with `check_retain_source` and an ACL
    /// file, only when its publisher may still write its topic. The broker's own messages (and
    /// wills, which carry no publisher) always may.
    pub fn retained_deliverable(&self, message: &super::message::Message) -> bool {
        let (Some(acl), Some(publisher), true) =
            (&self.acl_file, &message.publisher, self.check_retain_source)
        else {
            return true;
        };
        acl.for_client(publisher.username.as_deref(), &publisher.client_id)
            .allows(message.topic.as_str(), super::acl::Action::Write)
    }
}

/// A listener's own authentication and access control (`per_listener_settings true`).
#[derive(Debug, Clone, Default)]
pub struct Security {
    /// `allow_anonymous` (false unless set, as mosquitto 2.0).
    pub allow_anonymous: bool,
    /// `password_file`.
    pub password_file: Option<std::sync::Arc<super::passwd::PasswordFile>>,
    /// `acl_file`.
    pub acl_file: Option<std::sync::Arc<super::acl::AclFile>>,
}

impl Config {
    /// The settings for clients of listener number `listener` (in the file's order): with
    /// `per_listener_settings`, its own security options replace the broker's.
    pub fn for_listener(
        self: &std::sync::Arc<Self>,
        listener: Option<usize>,
    ) -> std::sync::Arc<Self> {
        match listener.and_then(|i| self.listener_security.get(i)) {
            None => std::sync::Arc::clone(self),
            Some(security) => {
                let mut own = Config::clone(self);
                own.allow_anonymous = security.allow_anonymous;
                own.password_file = security.password_file.clone();
                own.acl_file = security.acl_file.clone();
                std::sync::Arc::new(own)
            }
        }
    }

    /// Where the persistence file is.
    pub fn persistence_path(&self) -> std::path::PathBuf {
        let dir = self.persistence_location.clone().unwrap_or_default();
        dir.join(&self.persistence_file)
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_packet_size: crate::protocol::MAX_REMAINING_LENGTH as u32 + 5,
            message_size_limit: 0,
            max_inflight_messages: 20,
            max_inflight_bytes: 0,
            receive_maximum: 65_535,
            max_queued_messages: 1000,
            max_queued_bytes: 0,
            queue_qos0_messages: false,
            max_keepalive: 65_535,
            max_qos: QoS::ExactlyOnce,
            retain_available: true,
            max_topic_alias: 10,
            sys_interval: Some(Duration::from_secs(10)),
            connect_timeout: Duration::from_secs(10),
            persistent_client_expiration: None,
            allow_zero_length_clientid: true,
            auto_id_prefix: "auto-".to_owned(),
            allow_anonymous: true,
            password_file: None,
            acl_file: None,
            listener_security: Vec::new(),
            persistence: false,
            persistence_location: None,
            persistence_file: "mqbroker.db".to_owned(),
            clientid_prefixes: None,
            set_tcp_nodelay: true,
            upgrade_outgoing_qos: false,
            check_retain_source: false,
        }
    }
}
