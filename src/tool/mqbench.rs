//! Runs `mqbench`: picks the scenario (a short self-test against the embedded broker when none
//! is given), builds one connection factory for every client, shows progress on stderr, and
//! prints the report (table or JSON) and the threshold verdicts.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::oneshot;

use crate::bench::conn::{self, Conn};
use crate::bench::cpu;
use crate::bench::pubsub::{self, Connect, Live, PubSub};
use crate::bench::report::{ConnReport, ConnSettings, Limits, Percentiles, Report, Second};
use crate::bench::stamp::STAMP_LEN;
use crate::broker::{Broker, Config};
use crate::cli::connect::scheme_for;
use crate::cli::mqbench::{
    Args, ConnArgs, PubSubArgs, ReportArgs, Scenario, ServerArgs, MAN_SECTION,
};
use crate::client::transport::{self, Endpoint, Target, TransportOptions};
use crate::client::{Client, ClientError};
use crate::exit::Exit;
use crate::protocol::{Connect as ConnectPacket, MqttString};

use super::report::Report as Errors;

/// The self-test's flags: two publishers and two subscribers, QoS 1, 20,000 msg/s for 5 s, and
/// no loss allowed.
const SELF_TEST: [&str; 14] = [
    "mqbench",
    "pubsub",
    "--pubs",
    "2",
    "--subs",
    "2",
    "-q",
    "1",
    "-r",
    "20000",
    "-d",
    "5s",
    "--max-loss",
    "0",
];

/// Runs mqbench to completion on a runtime of its own and returns its exit status.
pub fn main(args: Args) -> Exit {
    let errors = Errors::new("mqbench", false);
    if let Some(kind) = args.generate {
        return super::print_generated::<Args>(MAN_SECTION, kind, &errors);
    }
    let (kind, mut scenario) = match args.command {
        Some(Scenario::Conn(a)) => {
            return match runtime(a.report.threads) {
                Ok(rt) => rt.block_on(run_conn(a, errors)),
                Err(e) => errors.failure(&format!("cannot start the runtime: {e}")),
            }
        }
        Some(Scenario::Pubsub(a)) => ("pubsub", a),
        Some(Scenario::Pub(a)) => ("pub", a),
        Some(Scenario::Sub(a)) => ("sub", a),
        None => match Args::try_parse_from(SELF_TEST) {
            Ok(Args {
                command: Some(Scenario::Pubsub(a)),
                ..
            }) => ("pubsub", a),
            _ => return errors.failure("the self-test's flags do not parse"),
        },
    };
    match kind {
        "pub" => scenario.subscribers = 0,
        "sub" => scenario.publishers = 0,
        _ => {}
    }
    match runtime(scenario.report.threads) {
        Ok(rt) => rt.block_on(run_pubsub(kind, scenario, errors)),
        Err(e) => errors.failure(&format!("cannot start the runtime: {e}")),
    }
}

/// A multi-thread runtime with `threads` workers (default: one per core).
fn runtime(threads: Option<usize>) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = threads {
        builder.worker_threads(n.max(1));
    }
    builder.enable_all().build()
}

async fn run_conn(args: ConnArgs, errors: Errors) -> Exit {
    if args.rate.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
        return errors.usage("--rate must be a positive number of connections per second");
    }
    if !args.churn && args.count == 0 {
        return errors.usage("--count must be at least 1");
    }
    if args.churn && args.duration.is_zero() {
        return errors.usage("--duration must be longer than 0 with --churn");
    }
    let plan = Conn {
        count: args.count,
        rate: args.rate,
        hold: args.hold,
        churn: args.churn,
        duration: args.duration,
    };
    let (server, connect, _broker) = match server(&args.server).await {
        Ok(s) => s,
        Err(e) => return errors.usage(&e),
    };
    let live = Arc::new(Live::default());
    let (series, outcome, cpu) = measured(&live, args.report.verbose, |live| {
        conn::run(&plan, connect, live)
    })
    .await;
    let elapsed = outcome.elapsed.as_secs_f64().max(1e-3);
    let report = ConnReport {
        scenario: "conn",
        settings: ConnSettings {
            server,
            count: plan.count,
            rate: plan.rate,
            hold_s: plan.hold.as_secs_f64(),
            churn: plan.churn,
            duration_s: plan.duration.as_secs_f64(),
        },
        attempts: outcome.attempts,
        connected: outcome.connected,
        failed: outcome.failed,
        connect_rate: (outcome.connected as f64 / elapsed).round(),
        connect_latency_us: Percentiles::of(&outcome.latency),
        series,
        cpu_percent: cpu,
    };
    let json = serde_json::to_string_pretty(&report).unwrap_or_default();
    let mut verdicts = report.verdicts(&limits(&args.report));
    if report.attempts > 0 && report.connected == 0 {
        verdicts.push("no connection succeeded".into());
    }
    finish(&json, &report.table(), verdicts, &args.report, &errors)
}

/// Runs `scenario` with Ctrl-C wired to `live.stop` and the progress ticker around it;
/// returns the per-second series, the outcome and mqbench's CPU percentage.
async fn measured<T, F, Fut>(
    live: &Arc<Live>,
    verbose: bool,
    scenario: F,
) -> (Vec<Second>, T, Option<f64>)
where
    F: FnOnce(Arc<Live>) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let stop = live.clone();
    tokio::spawn(async move {
        crate::shutdown::signal().await;
        stop.stop.store(true, Ordering::Relaxed);
    });
    let cpu_start = cpu::Sample::now();
    let (end, ended) = oneshot::channel();
    let ticker = tokio::spawn(progress(live.clone(), verbose, ended));
    let outcome = scenario(live.clone()).await;
    let _ = end.send(());
    let series = ticker.await.unwrap_or_default();
    (series, outcome, cpu_start.percent_since())
}

fn limits(args: &ReportArgs) -> Limits {
    Limits {
        max_p99: args.max_p99,
        min_rate: args.min_rate,
        max_loss: args.max_loss,
    }
}

/// Checks the flags that clap cannot, as one line each.
fn plan(kind: &str, args: &PubSubArgs) -> Result<PubSub, String> {
    if args.size < STAMP_LEN {
        return Err(format!(
            "--size {}: at least {STAMP_LEN} bytes (the latency stamp)",
            args.size
        ));
    }
    if args.publishers == 0 && kind != "sub" {
        return Err("--pubs must be at least 1".into());
    }
    if args.subscribers == 0 && kind == "sub" {
        return Err("--subs must be at least 1".into());
    }
    let body = match &args.payload_file {
        Some(path) => {
            Some(bytes::Bytes::from(std::fs::read(path).map_err(|e| {
                format!("cannot read {}: {e}", path.display())
            })?))
        }
        None => None,
    };
    let rate = match args.rate_per_client {
        Some(r) => Some(r * args.publishers.max(1) as f64),
        None => args.rate,
    };
    if rate.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
        return Err("--rate must be a positive number of messages per second".into());
    }
    if args.warmup >= args.duration && args.limit.is_none() {
        return Err("--warmup must be shorter than --duration".into());
    }
    crate::topic::TopicFilter::new(&args.filter)
        .map_err(|e| format!("--filter {}: {e}", args.filter))?;
    let topic = ["%i", "%c", "%u", "%s"]
        .iter()
        .fold(args.topic.clone(), |t, pat| t.replace(pat, "x"));
    crate::topic::TopicName::new(&topic).map_err(|e| format!("--topic {}: {e}", args.topic))?;
    Ok(PubSub {
        publishers: args.publishers,
        subscribers: args.subscribers,
        topic: args.topic.clone(),
        filter: args.filter.clone(),
        qos: args.qos,
        size: args.size,
        rate,
        duration: args.duration,
        warmup: args.warmup,
        limit: args.limit,
        inflight: args.inflight,
        drain: args.drain,
        retain: args.retain,
        connect_rate: args.connect_rate,
        body,
        id_prefix: args.server.id_prefix.clone(),
        username: args.server.username.clone(),
    })
}

async fn run_pubsub(kind: &'static str, args: PubSubArgs, errors: Errors) -> Exit {
    let plan = match plan(kind, &args) {
        Ok(p) => p,
        Err(e) => return errors.usage(&e),
    };
    let (server, connect, _broker) = match server(&args.server).await {
        Ok(s) => s,
        Err(e) => return errors.usage(&e),
    };
    let live = Arc::new(Live::default());
    let (series, outcome, cpu) = measured(&live, args.report.verbose, |live| {
        pubsub::run(&plan, connect, live)
    })
    .await;
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => return errors.client_error(&e),
    };
    let errors_seen = live.errors.load(Ordering::Relaxed);
    let report = Report::new(kind, server, &plan, &outcome, series, cpu, errors_seen);
    let json = serde_json::to_string_pretty(&report).unwrap_or_default();
    let verdicts = report.verdicts(&limits(&args.report));
    finish(&json, &report.table(), verdicts, &args.report, &errors)
}

/// Writes the report (table or JSON, and `--json-out`) and the verdicts; the exit status.
fn finish(
    json: &str,
    table: &str,
    verdicts: Vec<String>,
    args: &ReportArgs,
    errors: &Errors,
) -> Exit {
    if let Some(path) = &args.json_out {
        if let Err(e) = std::fs::write(path, format!("{json}\n")) {
            return errors.failure(&format!("cannot write {}: {e}", path.display()));
        }
    }
    let mut out = std::io::stdout();
    let text = if args.json {
        format!("{json}\n")
    } else {
        table.to_string()
    };
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    for v in &verdicts {
        errors.error(&format!("threshold not met: {v}"));
    }
    if verdicts.is_empty() {
        Exit::SUCCESS
    } else {
        Exit::FAILURE
    }
}

/// Samples the counters once a second until `end`: a progress line on a terminal (or with
/// `-v` elsewhere), and the per-second series for the report.
async fn progress(live: Arc<Live>, verbose: bool, mut end: oneshot::Receiver<()>) -> Vec<Second> {
    let bar = std::io::stderr().is_terminal().then(|| {
        let style = ProgressStyle::with_template("{spinner} {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        ProgressBar::new_spinner().with_style(style)
    });
    let mut series = Vec::new();
    let (mut sent, mut received) = (0, 0);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    for t in 1.. {
        tokio::select! {
            _ = tick.tick() => {}
            _ = &mut end => break,
        }
        let s = live.sent.load(Ordering::Relaxed);
        let r = live.received.load(Ordering::Relaxed);
        series.push(Second {
            t,
            sent: s - sent,
            received: r - received,
        });
        let line = format!(
            "pub {}/s  recv {}/s  connections {}  errors {}",
            s - sent,
            r - received,
            live.connections.load(Ordering::Relaxed),
            live.errors.load(Ordering::Relaxed)
        );
        (sent, received) = (s, r);
        match &bar {
            Some(bar) => bar.set_message(line),
            None if verbose => eprintln!("{t}s {line}"),
            None => {}
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    series
}

/// The embedded broker, stopped when dropped.
struct Embedded {
    _stop: oneshot::Sender<()>,
}

/// Where the load goes, as named in the report, and how to connect there. With no host, an
/// embedded broker on a free 127.0.0.1 port.
async fn server(args: &ServerArgs) -> Result<(String, Connect, Option<Embedded>), String> {
    let mut args = args.clone();
    let mut embedded = None;
    if args.hosts.is_empty() && args.urls.is_empty() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("cannot start the embedded broker: {e}"))?;
        let addr: SocketAddr = listener.local_addr().map_err(|e| e.to_string())?;
        let (stop, stopped) = oneshot::channel::<()>();
        // A deep queue: the self-test shows mqbench working end to end, and a subscriber
        // slowed by a busy machine must not turn into loss (mosquitto's 1,000 would).
        let config = Config {
            max_queued_messages: 1_000_000,
            ..Config::default()
        };
        tokio::spawn(async move {
            let broker = Broker::new(config);
            broker
                .serve(vec![listener], async {
                    let _ = stopped.await;
                })
                .await
        });
        args.hosts = vec![addr.ip().to_string()];
        args.port = Some(addr.port());
        embedded = Some(Embedded { _stop: stop });
    }
    let factory = Arc::new(Factory::new(&args)?);
    let name = match embedded {
        Some(_) => format!("the embedded broker ({})", factory.endpoints[0].authority()),
        None => factory.describe(),
    };
    let connect: Connect = Arc::new(move |i, role| {
        let factory = factory.clone();
        Box::pin(async move { factory.connect(i, role).await })
    });
    Ok((name, connect, embedded))
}

/// The servers to spread connections over, from `-L` URLs or `-h` hosts with `-p`, TLS and
/// `--ws`; and the user name and password the first URL carries.
type UrlUser = (Option<String>, Option<String>);

fn endpoints(args: &ServerArgs) -> Result<(Vec<Endpoint>, UrlUser), String> {
    if args.urls.is_empty() {
        let tls = args.tls.wanted() || args.tls.cert.is_some() || args.port == Some(8883);
        let scheme = scheme_for(tls, args.ws);
        let port = args.port.unwrap_or(scheme.default_port());
        let all = args
            .hosts
            .iter()
            .map(|h| Endpoint::new(scheme, h.clone(), port));
        return Ok((all.collect(), (None, None)));
    }
    let mut user = (None, None);
    let mut all = Vec::new();
    for (i, url) in args.urls.iter().enumerate() {
        let parsed = transport::parse_url(url).map_err(|e| format!("--url {url}: {e}"))?;
        if i == 0 {
            user = (parsed.username, parsed.password);
        }
        let mut endpoint = parsed.endpoint;
        if let Some(port) = args.port {
            endpoint.port = port;
        }
        all.push(endpoint);
    }
    Ok((all, user))
}

/// Builds every client's connection: the same CONNECT but for the id, servers in turn.
struct Factory {
    endpoints: Vec<Endpoint>,
    transport: TransportOptions,
    connect: ConnectPacket,
    prefix: String,
    next_host: AtomicUsize,
}

impl Factory {
    fn new(args: &ServerArgs) -> Result<Factory, String> {
        args.tls.check_supported()?;
        let (endpoints, url_user) = endpoints(args)?;
        let tls = endpoints.iter().any(|e| e.scheme.is_tls());
        let mut connect = ConnectPacket::new(args.protocol_version, MqttString::default());
        connect.keep_alive = args.keepalive;
        connect.clean_start = !args.persistent;
        if args.protocol_version == crate::protocol::ProtocolVersion::V5 {
            connect.properties.session_expiry_interval = args.session_expiry;
        } else if args.session_expiry.is_some() {
            return Err("--session-expiry needs MQTT 5 (-V 5)".into());
        }
        let (url_name, url_password) = url_user;
        connect.username = args
            .username
            .clone()
            .or(url_name)
            .as_deref()
            .map(MqttString::new)
            .transpose()
            .map_err(|e| e.to_string())?;
        let password = args
            .password
            .clone()
            .or(url_password)
            .or_else(|| std::env::var(crate::cli::password::ENV).ok());
        connect.password = password.map(bytes::Bytes::from);
        Ok(Factory {
            endpoints,
            transport: TransportOptions {
                tls: tls.then(|| args.tls.options()).transpose()?,
                ..TransportOptions::default()
            },
            connect,
            prefix: args.id_prefix.clone(),
            next_host: AtomicUsize::new(0),
        })
    }

    fn describe(&self) -> String {
        let all: Vec<String> = self
            .endpoints
            .iter()
            .map(|e| match e.scheme {
                crate::client::transport::Scheme::Mqtt => format!("{} port {}", e.host, e.port),
                scheme => format!("{scheme}://{}{}", e.authority(), e.path),
            })
            .collect();
        all.join(", ")
    }

    async fn connect(
        &self,
        index: usize,
        role: &'static str,
    ) -> Result<Client<transport::BoxStream>, ClientError> {
        let n = self.next_host.fetch_add(1, Ordering::Relaxed) % self.endpoints.len();
        let target = Target::Tcp(self.endpoints[n].clone());
        let mut connect = self.connect.clone();
        connect.client_id = MqttString::new(&format!("{}{role}-{index}", self.prefix))
            .map_err(|e| ClientError::Io(std::io::Error::other(e.to_string())))?;
        super::connection::connect_to(&target, &self.transport, connect, None).await
    }
}
