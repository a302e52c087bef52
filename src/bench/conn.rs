//! The `conn` scenario: open many connections at a set rate (or as fast as possible) and hold
//! them, or with `churn` connect and disconnect over and over. Each attempt is timed from its
//! *intended* start (TCP, TLS, CONNECT, CONNACK), so a server that falls behind shows in the
//! percentiles; failures are counted by what failed (the CONNACK reason code, a timeout, a
//! refused TCP connection...).

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::pubsub::{Connect, Live};
use super::tally::new_histogram;
use crate::client::ClientError;
use crate::protocol::ReasonCode;

/// Connection attempts in flight at once when unpaced.
pub const UNPACED_IN_FLIGHT: usize = 64;

/// What to run.
#[derive(Debug, Clone)]
pub struct Conn {
    /// Connections to open (without churn).
    pub count: usize,
    /// Connection attempts per second; `None` as fast as possible.
    pub rate: Option<f64>,
    /// How long to hold the connections once all are open.
    pub hold: Duration,
    /// Connect and disconnect repeatedly for `duration` instead of holding.
    pub churn: bool,
    /// How long to churn.
    pub duration: Duration,
}

/// Everything measured.
#[derive(Debug)]
pub struct ConnOutcome {
    /// Attempts made.
    pub attempts: u64,
    /// Attempts that got a successful CONNACK.
    pub connected: u64,
    /// Failed attempts by what failed.
    pub failed: BTreeMap<String, u64>,
    /// Intended start to CONNACK, microseconds.
    pub latency: Histogram<u64>,
    /// From the first attempt to the last one's end.
    pub elapsed: Duration,
}

#[derive(Debug, Default)]
struct Shared {
    latency: Option<Histogram<u64>>,
    connected: u64,
    failed: BTreeMap<String, u64>,
}

/// Runs the scenario.
pub async fn run(plan: &Conn, connect: Connect, live: Arc<Live>) -> ConnOutcome {
    let shared = Arc::new(Mutex::new(Shared {
        latency: Some(new_histogram()),
        ..Shared::default()
    }));
    let start = Instant::now();
    let interval = plan
        .rate
        .filter(|r| *r > 0.0)
        .map(|r| Duration::from_secs_f64(1.0 / r));
    let mut held = JoinSet::new();
    let mut attempts = 0u64;
    let gate = interval
        .is_none()
        .then(|| Arc::new(tokio::sync::Semaphore::new(UNPACED_IN_FLIGHT)));
    loop {
        let i = attempts as usize;
        let intended = interval.map_or_else(Instant::now, |iv| start + iv.mul_f64(attempts as f64));
        let more = if plan.churn {
            intended < start + plan.duration
        } else {
            i < plan.count
        };
        if !more || live.stop.load(Ordering::Relaxed) {
            break;
        }
        if interval.is_some() {
            // (An unpaced attempt must not sleep: tokio's timer would round it to a millisecond.)
            tokio::time::sleep_until(intended).await;
        }
        attempts += 1;
        // Unpaced: as fast as the server takes them, [`UNPACED_IN_FLIGHT`] at a time (all at
        // once would overflow the listen backlog and measure SYN retransmits).
        let permit = match &gate {
            Some(gate) => gate.clone().acquire_owned().await.ok(),
            None => None,
        };
        // Unpaced attempts are timed from when they start, not from when they were queued.
        let intended = if interval.is_some() {
            intended
        } else {
            Instant::now()
        };
        let (connect, shared, live) = (connect.clone(), shared.clone(), live.clone());
        let churn = plan.churn;
        held.spawn(async move {
            let client = attempt(i, intended, connect, shared, live, churn).await;
            drop(permit);
            client
        });
    }
    // Wait for every attempt to finish connecting (or failing).
    let mut clients = Vec::new();
    while let Some(result) = held.join_next().await {
        if let Ok(Some(client)) = result {
            clients.push(client);
        }
    }
    let elapsed = start.elapsed();
    hold(clients, plan.hold, &live).await;
    let mut shared = shared.lock().unwrap_or_else(|e| e.into_inner());
    ConnOutcome {
        attempts,
        connected: shared.connected,
        failed: std::mem::take(&mut shared.failed),
        latency: shared.latency.take().unwrap_or_else(new_histogram),
        elapsed,
    }
}

type Held = crate::client::Client<crate::client::BoxStream>;

/// One connection attempt; the client is returned to be held (not with churn).
async fn attempt(
    index: usize,
    intended: Instant,
    connect: Connect,
    shared: Arc<Mutex<Shared>>,
    live: Arc<Live>,
    churn: bool,
) -> Option<Held> {
    let result = connect(index, "conn").await;
    let us = intended.elapsed().as_micros() as u64;
    let client = {
        let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
        match result {
            Ok(client) => {
                s.connected += 1;
                if let Some(h) = s.latency.as_mut() {
                    let _ = h.record(us.max(1));
                }
                client
            }
            Err(e) => {
                *s.failed.entry(failure(&e)).or_insert(0) += 1;
                live.errors.fetch_add(1, Ordering::Relaxed);
                return None;
            }
        }
    };
    live.sent.fetch_add(1, Ordering::Relaxed);
    if churn {
        let _ = client.disconnect(ReasonCode::Success).await;
        return None;
    }
    live.connections.fetch_add(1, Ordering::Relaxed);
    Some(client)
}

/// A failure's class, for counting: the CONNACK code, or what went wrong before it.
fn failure(e: &ClientError) -> String {
    match e {
        ClientError::Refused { .. } => format!("CONNACK {e}"),
        ClientError::Timeout(_) => "timeout".into(),
        ClientError::Transport(t) => t.to_string(),
        other => other.to_string(),
    }
}

/// Keeps the connections open (answering keep alive) for `hold`, then disconnects them all.
async fn hold(clients: Vec<Held>, hold: Duration, live: &Arc<Live>) {
    let until = Instant::now() + hold;
    let mut tasks = JoinSet::new();
    for mut client in clients {
        let live = live.clone();
        tasks.spawn(async move {
            loop {
                let stop = live.stop.load(Ordering::Relaxed);
                if stop || Instant::now() >= until {
                    break;
                }
                let wait = until.min(Instant::now() + Duration::from_millis(200));
                tokio::select! {
                    _ = tokio::time::sleep_until(wait) => {}
                    r = client.poll() => if r.is_err() {
                        live.errors.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                }
            }
            let _ = client.disconnect(ReasonCode::Success).await;
        });
    }
    while tasks.join_next().await.is_some() {}
}
