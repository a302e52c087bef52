//! `mqpub -l`: one connection for all of standard input, and delivery users can rely on
//! (mosquitto #1152, #1899, #2187). Lines are read by a task into a bounded channel; messages
//! wait in a bounded queue, at most `-M` QoS 1/2 messages are in flight, and when the
//! connection drops the unacknowledged ones go back to the front of the queue (in their order)
//! and are sent again after reconnecting. Reading stops while the queue is full, so nothing is
//! dropped: the writer into the pipe waits instead. At end of input every message is sent and
//! acknowledged before DISCONNECT; the exit status is 1, with a count, if any was not.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use tokio::io::AsyncBufReadExt;
use tokio::sync::mpsc;

use crate::cli::mqpub::LineFormat;
use crate::client::{ClientError, Event};
use crate::exit::Exit;
use crate::protocol::{Publish, ReasonCode};
use crate::tool::connection::{Connection, Connector};
use crate::tool::report::Report;

use super::{lines, Template};

/// The first pause before reconnecting; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// `-l` settings.
pub struct Options {
    /// What a line is.
    pub format: LineFormat,
    /// How many messages may wait (read but not yet acknowledged).
    pub queue: usize,
    /// Failed connection attempts in a row before giving up (0 = never give up).
    pub reconnect_attempts: u32,
}

/// The messages of a run: waiting to be sent, and sent but not acknowledged.
struct Outbox {
    waiting: VecDeque<Publish>,
    /// By packet identifier: the message and its place in the sending order.
    in_flight: HashMap<u16, (u64, Publish)>,
    sent: u64,
    failed: u64,
    eof: bool,
}

impl Outbox {
    fn len(&self) -> usize {
        self.waiting.len() + self.in_flight.len()
    }

    fn done(&self) -> bool {
        self.eof && self.len() == 0
    }

    /// After a lost connection: unacknowledged messages go first, in their original order.
    fn requeue(&mut self) {
        let mut back: Vec<(u64, Publish)> = self.in_flight.drain().map(|(_, v)| v).collect();
        back.sort_by_key(|(seq, _)| *seq);
        for (_, p) in back.into_iter().rev() {
            self.waiting.push_front(p);
        }
    }
}

/// Streams stdin lines to the server until end of input.
pub async fn run(
    connector: &Connector,
    template: &Template,
    opts: Options,
    report: &Report,
) -> Exit {
    let (tx, mut rx) = mpsc::channel(64);
    tokio::spawn(read_lines(tx));
    let mut outbox = Outbox {
        waiting: VecDeque::new(),
        in_flight: HashMap::new(),
        sent: 0,
        failed: 0,
        eof: false,
    };
    let mut failures = 0u32;
    let mut backoff = FIRST_BACKOFF;
    let mut line_no = 0u64;
    loop {
        let mut client = match connector.connect().await {
            Ok(c) => c,
            Err(e @ ClientError::Refused { .. }) => return report.client_error(&e),
            Err(e) => {
                failures += 1;
                if opts.reconnect_attempts > 0 && failures >= opts.reconnect_attempts {
                    report.error(&e.to_string());
                    return give_up(&outbox, &mut rx, report);
                }
                report.warning(&format!("{e}; reconnecting in {backoff:?}"));
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        failures = 0;
        backoff = FIRST_BACKOFF;
        let mut ctx = Pump {
            template,
            opts: &opts,
            report,
            line_no: &mut line_no,
        };
        match ctx.pump(&mut client, &mut outbox, &mut rx).await {
            Ok(()) => {
                let disconnect = connector.disconnect_packet(ReasonCode::Success);
                let _ = client.disconnect_with(disconnect).await;
                return if outbox.failed > 0 {
                    Exit::FAILURE
                } else {
                    Exit::SUCCESS
                };
            }
            Err(e) => {
                outbox.requeue();
                report.warning(&format!("connection lost ({e}); reconnecting"));
            }
        }
    }
}

/// Ends a run that cannot reach the server: every message read and not delivered counts,
/// including lines the reader task has taken from stdin but not handed over yet.
fn give_up(
    outbox: &Outbox,
    rx: &mut mpsc::Receiver<std::io::Result<Vec<u8>>>,
    report: &Report,
) -> Exit {
    let mut unread = 0u64;
    while let Ok(Ok(_)) = rx.try_recv() {
        unread += 1;
    }
    let lost = outbox.len() as u64 + outbox.failed + unread;
    report.failure(&format!("{lost} message(s) could not be delivered"))
}

/// One connection's worth of sending.
struct Pump<'a> {
    template: &'a Template,
    opts: &'a Options,
    report: &'a Report,
    line_no: &'a mut u64,
}

impl Pump<'_> {
    /// Sends and reads input until everything is delivered (`Ok`) or the connection fails.
    async fn pump(
        &mut self,
        client: &mut Connection,
        outbox: &mut Outbox,
        rx: &mut mpsc::Receiver<std::io::Result<Vec<u8>>>,
    ) -> Result<(), ClientError> {
        let window = usize::from(self.window(client));
        loop {
            while client.in_flight() < window {
                let Some(p) = outbox.waiting.pop_front() else {
                    break;
                };
                match client.start_publish(p.clone()).await {
                    Ok(Some(id)) => {
                        outbox.sent += 1;
                        outbox.in_flight.insert(id.get(), (outbox.sent, p));
                    }
                    Ok(None) => {}
                    Err(e) => {
                        outbox.waiting.push_front(p);
                        return Err(e);
                    }
                }
            }
            if outbox.done() {
                return Ok(());
            }
            let room = outbox.len() < self.opts.queue;
            tokio::select! {
                line = rx.recv(), if room && !outbox.eof => self.take_line(line, outbox),
                event = client.poll() => self.event(event?, outbox),
            }
        }
    }

    /// `-M`, within the server's Receive Maximum.
    fn window(&self, client: &Connection) -> u16 {
        let receive_max = client
            .connack()
            .properties
            .receive_maximum
            .map_or(u16::MAX, |r| r.get());
        self.template.max_inflight.min(receive_max)
    }

    fn take_line(&mut self, line: Option<std::io::Result<Vec<u8>>>, outbox: &mut Outbox) {
        let line = match line {
            None => return outbox.eof = true,
            Some(Err(e)) => {
                self.report
                    .error(&format!("cannot read standard input: {e}"));
                return outbox.eof = true;
            }
            Some(Ok(line)) => line,
        };
        *self.line_no += 1;
        match lines::parse(&line, self.opts.format, self.template) {
            Ok(p) => outbox.waiting.push_back(p),
            Err(e) => {
                outbox.failed += 1;
                self.report
                    .warning(&format!("line {}: {e}; not sent", self.line_no));
            }
        }
    }

    fn event(&mut self, event: Event, outbox: &mut Outbox) {
        if let Event::Acked { id, reason } = event {
            outbox.in_flight.remove(&id.get());
            if reason.is_error() {
                outbox.failed += 1;
                self.report
                    .warning(&format!("Publish {id} failed: {reason}."));
            }
        }
    }
}

/// Sends each line of stdin (without its `\n`; a `\r` stays, as mosquitto) until end of input.
async fn read_lines(tx: mpsc::Sender<std::io::Result<Vec<u8>>>) {
    let mut stdin = tokio::io::BufReader::new(tokio::io::stdin());
    loop {
        let mut line = Vec::new();
        match stdin.read_until(b'\n', &mut line).await {
            Ok(0) => return,
            Ok(_) => {
                if line.last() == Some(&b'\n') {
                    line.pop();
                }
                if tx.send(Ok(line)).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return;
            }
        }
    }
}
