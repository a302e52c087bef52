//! Runs `mqpub`: checks the flags, reads the message before connecting (so bad input never
//! gives a partial publish), then publishes one message (`--repeat` times) or streams stdin
//! lines (`-l`, see [`stream`]).

mod lines;
mod stream;

use std::io::{Read, Write};
use std::time::Duration;

use bytes::Bytes;

use crate::cli::encoding::Encoding;
use crate::cli::mqpub::{Args, LineFormat, MAN_SECTION, PROPERTY_COMMANDS};
use crate::exit::Exit;
use crate::protocol::{Publish, PublishProperties, QoS, ReasonCode};
use crate::topic::TopicName;

use super::connection::Connector;
use super::report::Report;

/// What every message of a run starts from: topic, QoS, retain and `-D PUBLISH` properties.
pub struct Template {
    topic: Option<TopicName>,
    qos: QoS,
    retain: bool,
    properties: PublishProperties,
    encoding: Encoding,
    /// `-M`: QoS 1/2 messages in flight at once.
    max_inflight: u16,
}

impl Template {
    /// A message to `topic` (else the `-t` topic) with this payload.
    fn message(&self, topic: Option<&str>, payload: Bytes) -> Result<Publish, String> {
        let topic = match topic {
            Some(t) => publish_topic(t)?,
            None => self.topic.clone().ok_or("no topic: give -t")?,
        };
        let mut publish = Publish::new(topic, payload);
        publish.qos = self.qos;
        publish.retain = self.retain;
        publish.properties = self.properties.clone();
        Ok(publish)
    }
}

/// Checks a publish topic with mosquitto's wording for wildcards.
fn publish_topic(topic: &str) -> Result<TopicName, String> {
    TopicName::new(topic).map_err(|e| match e {
        crate::topic::TopicError::WildcardInName => {
            format!("invalid publish topic '{topic}', does it contain '+' or '#'?")
        }
        e => format!("invalid publish topic '{topic}': {e}"),
    })
}

/// Where the message comes from (exactly one of `-m -f -s -l -n`).
enum Source {
    One(Bytes),
    Lines(LineFormat),
}

/// Runs mqpub to completion and returns its exit status.
pub async fn run(args: Args) -> Exit {
    let report = Report::new("mqpub", args.connect.quiet);
    if let Some(kind) = args.generate {
        return super::print_generated::<Args>(MAN_SECTION, kind, &report);
    }
    let (connector, template, source) = match prepare(&args) {
        Ok(prepared) => prepared,
        Err(message) => return report.usage(&message),
    };
    match source {
        Source::One(payload) => {
            let publish = match template.message(None, payload) {
                Ok(p) => p,
                Err(message) => return report.usage(&message),
            };
            let delay = Duration::from_secs_f64(args.repeat_delay);
            publish_repeated(&connector, publish, args.repeat, delay, &report).await
        }
        Source::Lines(format) => {
            let options = stream::Options {
                format,
                queue: args.queue.max(1),
                reconnect_attempts: args.reconnect_attempts,
            };
            stream::run(&connector, &template, options, &report).await
        }
    }
}

/// Checks every flag and reads the message: all usage errors happen here, before connecting.
fn prepare(args: &Args) -> Result<(Connector, Template, Source), String> {
    let setup = args.connect.resolve("mqpub", PROPERTY_COMMANDS)?;
    let source = source(args)?;
    let topic = args.topic.as_deref().or(setup.url_topic.as_deref());
    let needs_topic = !matches!(source, Source::Lines(LineFormat::Topic | LineFormat::Json));
    if needs_topic && topic.is_none() {
        return Err("both topic (-t) and message (-m, -f, -s, -l or -n) must be supplied".into());
    }
    if args.repeat == 0 {
        return Err("--repeat must be at least 1".into());
    }
    if !args.repeat_delay.is_finite() || args.repeat_delay < 0.0 {
        return Err("--repeat-delay must be a number of seconds, 0 or more".into());
    }
    let template = Template {
        topic: topic.map(publish_topic).transpose()?,
        qos: setup.qos,
        retain: args.retain,
        properties: setup.properties.publish.clone(),
        encoding: args.connect.encoding,
        max_inflight: setup.max_inflight.get(),
    };
    let connector = Connector::new(setup);
    Ok((connector, template, source))
}

fn source(args: &Args) -> Result<Source, String> {
    let given = [
        args.message.is_some(),
        args.file.is_some(),
        args.stdin_file,
        args.stdin_line,
        args.null_message,
    ];
    match given.iter().filter(|g| **g).count() {
        0 => {
            return Err(
                "both topic (-t) and message (-m, -f, -s, -l or -n) must be supplied".into(),
            )
        }
        1 => {}
        _ => {
            return Err("only one type of message can be sent at once (-m, -f, -s, -l, -n)".into())
        }
    }
    if args.stdin_line {
        return Ok(Source::Lines(args.line_format));
    }
    if args.line_format != LineFormat::Payload {
        return Err("--line-format needs -l".into());
    }
    let raw = if let Some(m) = &args.message {
        m.clone().into_bytes()
    } else if let Some(path) = &args.file {
        std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?
    } else if args.stdin_file {
        read_stdin()?
    } else {
        Vec::new()
    };
    Ok(Source::One(args.connect.encoding.decode_bytes(&raw)?))
}

fn read_stdin() -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    std::io::stdin()
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot read standard input: {e}"))?;
    if buf.is_empty() {
        return Err("zero-length input on standard input (-s); use -n for an empty message".into());
    }
    Ok(buf)
}

/// Publishes one message `repeat` times, waiting for each acknowledgement and then `delay`.
async fn publish_repeated(
    connector: &Connector,
    publish: Publish,
    repeat: u32,
    delay: Duration,
    report: &Report,
) -> Exit {
    let mut client = match connector.connect().await {
        Ok(c) => c,
        Err(e) => return report.client_error(&e),
    };
    let mut failed = 0u32;
    for i in 1..=repeat {
        if i > 1 && !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        match client.publish(publish.clone()).await {
            Ok(reason) if reason.is_error() => {
                failed += 1;
                report.warning(&format!("Publish {i} failed: {reason}."));
            }
            Ok(_) => {}
            Err(e) => return report.client_error(&e),
        }
    }
    let disconnect = connector.disconnect_packet(ReasonCode::Success);
    if let Err(e) = client.disconnect_with(disconnect).await {
        return report.client_error(&e);
    }
    let _ = std::io::stdout().flush();
    // As mosquitto_pub: a message the server refused is a warning, not a failed run.
    let _ = failed;
    Exit::SUCCESS
}
