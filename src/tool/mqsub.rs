//! Runs `mqsub`: subscribes, prints each message with the chosen [`Printer`], and stops on
//! `-C`, `-W`, `-E`, `--retained-only`, a closed stdout, Ctrl-C or SIGTERM. A dropped
//! connection is re-established and the filters subscribed again (as mosquitto_sub does);
//! only the first connection's failure ends the run.

use std::io::{ErrorKind, IsTerminal, Write};
use std::pin::Pin;
use std::time::Duration;

use tokio::time::Instant;

use crate::cli::mqsub::{Args, ColorChoice, MAN_SECTION, PROPERTY_COMMANDS};
use crate::client::{ClientError, Event};
use crate::exit::Exit;
use crate::output::{Colour, Format, Output, Printer, Received};
use crate::protocol::{
    MqttString, ProtocolVersion, Publish, QoS, ReasonCode, RetainHandling, SubscribeProperties,
    Subscription, SubscriptionOptions,
};
use crate::topic::{TopicFilter, TopicName};

use super::connection::{Connection, Connector};
use super::report::Report;

/// The pause before reconnecting after a lost connection.
const RECONNECT_DELAY: Duration = Duration::from_secs(1);

/// Everything the flags decide, checked before connecting.
struct Plan {
    connector: Connector,
    subscriptions: Vec<Subscription>,
    properties: SubscribeProperties,
    unsubscribe: Vec<MqttString>,
    filter_out: Vec<TopicFilter>,
    count: Option<u64>,
    deadline: Option<Instant>,
    exit_after_subscribe: bool,
    no_retained: bool,
    retained_only: bool,
    remove_retained: bool,
    random_filter: Option<f64>,
    printer: Printer,
}

/// Why the run stops without the server's doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Timeout,
    Signal,
    /// Whoever read our stdout has gone (`mqsub ... | head -1`).
    OutputClosed,
}

/// How one connection's receiving ended.
enum Flow {
    Done(Exit),
    Lost(ClientError),
}

/// Runs mqsub to completion and returns its exit status.
pub async fn run(args: Args) -> Exit {
    let report = Report::new("mqsub", args.connect.quiet);
    if let Some(kind) = args.generate {
        return super::print_generated::<Args>(MAN_SECTION, kind, &report);
    }
    let plan = match prepare(&args) {
        Ok(plan) => plan,
        Err(message) => return report.usage(&message),
    };
    let stop = stop_signal(plan.deadline);
    tokio::pin!(stop);
    Subscriber {
        plan,
        report,
        printed: 0,
        buf: Vec::new(),
        disconnect_reason: ReasonCode::Success,
    }
    .run(stop)
    .await
}

/// Completes at the `-W` deadline or on Ctrl-C / SIGTERM.
async fn stop_signal(deadline: Option<Instant>) -> Stop {
    let timeout = async {
        match deadline {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = timeout => Stop::Timeout,
        _ = crate::shutdown::signal() => Stop::Signal,
        _ = stdout_closed() => Stop::OutputClosed,
    }
}

/// Completes when stdout is a pipe whose reader has gone (epoll reports an error on the write
/// end), so `mqsub | head -1` ends when `head` does, not at the next message. Never completes
/// for terminals and files.
async fn stdout_closed() {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        use tokio::io::unix::AsyncFd;
        use tokio::io::Interest;
        // `with_interest` is deprecated because a borrowed fd could be closed under it; ours is
        // a duplicate we own (an `OwnedFd`), and its replacement is `unsafe`, which we forbid.
        #[allow(deprecated)]
        let watched = std::io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .and_then(|fd| AsyncFd::with_interest(fd, Interest::ERROR));
        if let Ok(fd) = watched {
            let _ = fd.ready(Interest::ERROR).await;
            return;
        }
    }
    std::future::pending::<()>().await
}

fn prepare(args: &Args) -> Result<Plan, String> {
    let setup = args.connect.resolve("mqsub", PROPERTY_COMMANDS)?;
    let mut topics = args.topics.clone();
    topics.extend(setup.url_topic.clone());
    if topics.is_empty() {
        return Err("you must specify a topic to subscribe to (-t)".into());
    }
    let version = setup.connect.version;
    let options = SubscriptionOptions {
        qos: setup.qos,
        no_local: args.no_local,
        retain_as_published: args.retain_as_published,
        retain_handling: if args.no_retained && version == ProtocolVersion::V5 {
            RetainHandling::DoNotSend
        } else {
            RetainHandling::SendAtSubscribe
        },
    };
    if version != ProtocolVersion::V5 && (args.no_local || args.retain_as_published) {
        return Err("--no-local and --retain-as-published need MQTT 5 (-V 5)".into());
    }
    let subscriptions = topics
        .iter()
        .map(|t| {
            let filter = subscription_filter(t)?;
            Ok(Subscription {
                filter: filter.into_mqtt_string(),
                options,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let filter_out = args
        .filter_out
        .iter()
        .map(|t| subscription_filter(t))
        .collect::<Result<Vec<_>, String>>()?;
    let unsubscribe = args
        .unsubscribe
        .iter()
        .map(|t| subscription_filter(t).map(TopicFilter::into_mqtt_string))
        .collect::<Result<Vec<_>, String>>()?;
    if let Some(p) = args.random_filter {
        if !(0.1..=100.0).contains(&p) {
            return Err(format!(
                "--random-filter {p}: give a percentage from 0.1 to 100"
            ));
        }
    }
    let printer = printer(args)?;
    let properties = setup.properties.subscribe.clone();
    Ok(Plan {
        connector: Connector::new(setup),
        subscriptions,
        properties,
        unsubscribe,
        filter_out,
        count: args.count,
        deadline: args
            .timeout
            .map(|s| Instant::now() + Duration::from_secs(u64::from(s))),
        exit_after_subscribe: args.exit_after_subscribe,
        no_retained: args.no_retained,
        retained_only: args.retained_only,
        remove_retained: args.remove_retained,
        random_filter: args.random_filter,
        printer,
    })
}

/// Checks a filter with mosquitto's wording.
fn subscription_filter(t: &str) -> Result<TopicFilter, String> {
    TopicFilter::new(t).map_err(|e| {
        format!("invalid subscription topic '{t}', are all '+' and '#' wildcards correct? ({e})")
    })
}

fn printer(args: &Args) -> Result<Printer, String> {
    let output = if args.json {
        Output::Json
    } else if let Some(f) = &args.format {
        Output::Format {
            format: Format::parse(f).map_err(|e| format!("invalid -F format: {e}"))?,
            pretty: args.pretty,
        }
    } else {
        Output::Plain {
            verbose: args.verbose,
            colour: colour(args.color),
        }
    };
    Ok(Printer {
        output,
        eol: !args.no_eol,
    })
}

/// `--color`: auto means stdout is a terminal and NO_COLOR is unset or empty (no-color.org).
fn colour(choice: ColorChoice) -> Colour {
    let on = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    if on {
        Colour::On
    } else {
        Colour::Off
    }
}

struct Subscriber {
    plan: Plan,
    report: Report,
    printed: u64,
    buf: Vec<u8>,
    /// The reason code of the final DISCONNECT (5.0).
    disconnect_reason: ReasonCode,
}

impl Subscriber {
    async fn run(mut self, mut stop: Pin<&mut impl std::future::Future<Output = Stop>>) -> Exit {
        let mut connected_once = false;
        loop {
            let attempt = tokio::select! {
                c = self.plan.connector.connect() => c,
                why = &mut stop => return self.stopped(why),
            };
            let mut client = match attempt {
                Ok(c) => c,
                Err(e) if !connected_once || matches!(e, ClientError::Refused { .. }) => {
                    return self.report.client_error(&e)
                }
                Err(e) => {
                    self.report.warning(&format!("{e}; reconnecting"));
                    tokio::select! {
                        _ = tokio::time::sleep(RECONNECT_DELAY) => continue,
                        why = &mut stop => return self.stopped(why),
                    }
                }
            };
            connected_once = true;
            let flow = match self.subscribe(&mut client).await {
                Ok(None) => self.receive(&mut client, stop.as_mut()).await,
                Ok(Some(exit)) => Flow::Done(exit),
                Err(e) => Flow::Lost(e),
            };
            match flow {
                Flow::Done(exit) => return self.finish(client, exit).await,
                Flow::Lost(e) => self
                    .report
                    .warning(&format!("connection lost ({e}); reconnecting")),
            }
        }
    }

    /// Subscribes (and unsubscribes `-U`); `Some` when the run ends here (`-E`, all denied).
    async fn subscribe(&mut self, client: &mut Connection) -> Result<Option<Exit>, ClientError> {
        let suback = client
            .subscribe(
                self.plan.subscriptions.clone(),
                self.plan.properties.clone(),
            )
            .await?;
        let codes: Vec<String> = suback
            .reason_codes
            .iter()
            .map(|c| c.as_u8().to_string())
            .collect();
        client.log_note(&format!(
            "Subscribed (mid: {}): {}",
            suback.packet_id,
            codes.join(", ")
        ));
        if !self.plan.unsubscribe.is_empty() {
            let user = self.plan.connector.setup.properties.unsubscribe.clone();
            client
                .unsubscribe(self.plan.unsubscribe.clone(), user)
                .await?;
        }
        if suback.reason_codes.iter().all(|c| c.is_error()) {
            self.report.error("All subscription requests were denied.");
            return Ok(Some(Exit::FAILURE));
        }
        Ok(self.plan.exit_after_subscribe.then_some(Exit::SUCCESS))
    }

    async fn receive(
        &mut self,
        client: &mut Connection,
        mut stop: Pin<&mut impl std::future::Future<Output = Stop>>,
    ) -> Flow {
        loop {
            let event = tokio::select! {
                e = client.poll() => e,
                why = &mut stop => return Flow::Done(self.stopped(why)),
            };
            match event {
                Ok(Event::Message(p)) => match self.handle(p, client).await {
                    Ok(Some(exit)) => return Flow::Done(exit),
                    Ok(None) => {}
                    Err(e) => return Flow::Lost(e),
                },
                Ok(Event::Acked { .. }) => {}
                Err(e) => return Flow::Lost(e),
            }
        }
    }

    /// Applies `-T`, `--remove-retained`, `--retained-only`, `-R`, `--random-filter`, prints,
    /// and counts for `-C`. `Some` when the run ends.
    async fn handle(
        &mut self,
        p: Publish,
        client: &mut Connection,
    ) -> Result<Option<Exit>, ClientError> {
        if self.plan.filter_out.iter().any(|f| f.matches(&p.topic)) {
            return Ok(None);
        }
        if self.plan.remove_retained && p.retain {
            client
                .start_publish(clear_retained(p.topic.clone()))
                .await?;
        }
        if self.plan.retained_only && !p.retain {
            return Ok(Some(Exit::SUCCESS));
        }
        if self.plan.no_retained && p.retain {
            return Ok(None);
        }
        if let Some(pct) = self.plan.random_filter {
            if fastrand::f64() * 100.0 >= pct {
                return Ok(None);
            }
        }
        if let Some(exit) = self.print(Received::now(p)) {
            return Ok(Some(exit));
        }
        self.printed += 1;
        Ok(self
            .plan
            .count
            .filter(|&c| self.printed >= c)
            .map(|_| Exit::SUCCESS))
    }

    /// Writes one message; `Some` when stdout is gone (a closed pipe ends the run quietly).
    fn print(&mut self, msg: Received) -> Option<Exit> {
        self.buf.clear();
        if let Err(e) = self.plan.printer.write(&msg, &mut self.buf) {
            self.report.error(&e.to_string());
        }
        let mut out = std::io::stdout().lock();
        match out.write_all(&self.buf).and_then(|()| out.flush()) {
            Ok(()) => None,
            Err(e) if e.kind() == ErrorKind::BrokenPipe => Some(Exit::SUCCESS),
            Err(e) => Some(self.report.failure(&format!("cannot write to stdout: {e}"))),
        }
    }

    /// The exit status for `why`. Like mosquitto_sub, a signal or `-W` ends the session with
    /// 5.0's "Disconnect with Will Message" (0x04): the will, if any, is published.
    fn stopped(&mut self, why: Stop) -> Exit {
        if why != Stop::OutputClosed {
            self.disconnect_reason = ReasonCode::DisconnectWithWillMessage;
        }
        match why {
            Stop::Timeout => {
                self.report.error_line("Timed out");
                Exit::TIMEOUT
            }
            Stop::Signal | Stop::OutputClosed => Exit::SUCCESS,
        }
    }

    /// Waits (briefly) for our own publishes to be acknowledged, then disconnects.
    async fn finish(&self, mut client: Connection, exit: Exit) -> Exit {
        let drain = async {
            while client.in_flight() > 0 {
                if client.poll().await.is_err() {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(5), drain).await;
        let disconnect = self
            .plan
            .connector
            .disconnect_packet(self.disconnect_reason);
        let _ = client.disconnect_with(disconnect).await;
        exit
    }
}

/// `--remove-retained`: an empty retained QoS 1 message clears the topic's retained message.
fn clear_retained(topic: TopicName) -> Publish {
    let mut p = Publish::new(topic, bytes::Bytes::new());
    p.qos = QoS::AtLeastOnce;
    p.retain = true;
    p
}
