//! The end of a run: one [`Report`] (serialised as the `--json` document) and its
//! human-readable table, plus the `--max-p99` / `--min-rate` / `--max-loss` verdicts.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::pubsub::{Outcome, PubSub};
use super::stamp::STAMP_LEN;

/// Percentiles of one latency histogram, in microseconds.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Percentiles {
    /// Samples.
    pub count: u64,
    /// Smallest.
    pub min: u64,
    /// Mean.
    pub mean: f64,
    /// 50th percentile.
    pub p50: u64,
    /// 90th.
    pub p90: u64,
    /// 99th.
    pub p99: u64,
    /// 99.9th.
    pub p99_9: u64,
    /// 99.99th.
    pub p99_99: u64,
    /// Largest.
    pub max: u64,
}

impl Percentiles {
    /// The percentiles of `h`; `None` when it is empty.
    pub fn of(h: &Histogram<u64>) -> Option<Percentiles> {
        (!h.is_empty()).then(|| Percentiles {
            count: h.len(),
            min: h.min(),
            mean: (h.mean() * 10.0).round() / 10.0,
            p50: h.value_at_quantile(0.5),
            p90: h.value_at_quantile(0.9),
            p99: h.value_at_quantile(0.99),
            p99_9: h.value_at_quantile(0.999),
            p99_99: h.value_at_quantile(0.9999),
            max: h.max(),
        })
    }
}

/// One second of the run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Second {
    /// Seconds since the publishers started.
    pub t: u64,
    /// Messages published in that second.
    pub sent: u64,
    /// Messages received in that second (all subscribers).
    pub received: u64,
}

/// The run's settings, as reported.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Settings {
    /// Where: the host(s) and port, or the embedded broker and its address (self-test).
    pub server: String,
    /// Publisher connections.
    pub publishers: usize,
    /// Subscriber connections.
    pub subscribers: usize,
    /// QoS.
    pub qos: u8,
    /// Payload bytes.
    pub payload_size: usize,
    /// Target total rate (msg/s); null when unpaced.
    pub rate: Option<f64>,
    /// Publishing time, seconds (warm-up included).
    pub duration_s: f64,
    /// Warm-up, seconds.
    pub warmup_s: f64,
    /// Publish topic template.
    pub topic: String,
    /// Subscription filter.
    pub filter: String,
    /// Published with the retain flag.
    pub retain: bool,
}

/// Counts over the whole run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Totals {
    /// Messages published.
    pub sent: u64,
    /// Deliveries expected: sent × subscribers (sent, for a `$share` group).
    pub expected: u64,
    /// Deliveries received (duplicates included).
    pub received: u64,
    /// Expected deliveries never received.
    pub lost: u64,
    /// Deliveries received twice or more.
    pub duplicates: u64,
    /// Deliveries that came after a later message of the same publisher.
    pub reordered: u64,
    /// Publishes the server refused (5.0 reason codes ≥ 0x80), by code.
    pub refused: BTreeMap<String, u64>,
}

/// The whole report (`--json`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    /// `pubsub`, `pub` or `sub`.
    pub scenario: &'static str,
    /// What ran.
    pub settings: Settings,
    /// Counts.
    pub totals: Totals,
    /// Published messages per second over the measured window (after warm-up).
    pub publish_rate: f64,
    /// Delivered messages per second over the measured window.
    pub delivery_rate: f64,
    /// End-to-end latency, µs (measured window only).
    pub latency_us: Option<Percentiles>,
    /// Publish → PUBACK/PUBCOMP, µs (QoS 1 and 2).
    pub ack_latency_us: Option<Percentiles>,
    /// Per-second series.
    pub series: Vec<Second>,
    /// mqbench's own CPU time over the run, as a percentage of one core.
    pub cpu_percent: Option<f64>,
    /// Connection failures and lost connections.
    pub errors: u64,
}

impl Report {
    /// Builds the report of a finished run.
    pub fn new(
        scenario: &'static str,
        server: String,
        plan: &PubSub,
        outcome: &Outcome,
        series: Vec<Second>,
        cpu_percent: Option<f64>,
        errors: u64,
    ) -> Report {
        let sent: u64 = outcome.sent.iter().sum();
        let measured = outcome.measured.as_secs_f64();
        let t = &outcome.tally;
        Report {
            scenario,
            settings: Settings {
                server,
                publishers: plan.publishers,
                subscribers: plan.subscribers,
                qos: plan.qos.as_u8(),
                payload_size: plan
                    .body
                    .as_ref()
                    .map_or(plan.size, |b| STAMP_LEN + b.len()),
                rate: plan.rate,
                duration_s: plan.duration.as_secs_f64(),
                warmup_s: plan.warmup.as_secs_f64(),
                topic: plan.topic.clone(),
                filter: plan.filter.clone(),
                retain: plan.retain,
            },
            totals: Totals {
                sent,
                expected: if plan.shared() {
                    sent
                } else {
                    sent * plan.subscribers as u64
                },
                received: t.received,
                lost: outcome.lost,
                duplicates: t.duplicates,
                reordered: t.reordered,
                refused: outcome
                    .refused
                    .iter()
                    .map(|(code, n)| (format!("0x{code:02X}"), *n))
                    .collect(),
            },
            publish_rate: round(outcome.sent_measured as f64 / measured),
            delivery_rate: round(outcome.received_measured as f64 / measured),
            latency_us: Percentiles::of(&t.latency),
            ack_latency_us: Percentiles::of(&outcome.ack_latency),
            series,
            cpu_percent,
            errors,
        }
    }

    /// The human-readable table.
    pub fn table(&self) -> String {
        let s = &self.settings;
        let t = &self.totals;
        let mut out = String::new();
        let rate = s
            .rate
            .map_or("unpaced".to_string(), |r| format!("{r} msg/s"));
        let _ = writeln!(
            out,
            "mqbench {} against {}: {} publisher(s), {} subscriber(s), QoS {}, {} B, {rate}, {}s (warm-up {}s)",
            self.scenario, s.server, s.publishers, s.subscribers, s.qos, s.payload_size, s.duration_s, s.warmup_s
        );
        let _ = writeln!(
            out,
            "messages   sent {}  expected {}  received {}  lost {}  duplicates {}  reordered {}",
            t.sent, t.expected, t.received, t.lost, t.duplicates, t.reordered
        );
        let _ = writeln!(
            out,
            "throughput publish {:.0} msg/s  deliver {:.0} msg/s",
            self.publish_rate, self.delivery_rate
        );
        for (name, p) in [("latency", &self.latency_us), ("ack", &self.ack_latency_us)] {
            if let Some(p) = p {
                let _ = writeln!(
                    out,
                    "{name:<10} p50 {}  p90 {}  p99 {}  p99.9 {}  p99.99 {}  max {}  (n={})",
                    us(p.p50),
                    us(p.p90),
                    us(p.p99),
                    us(p.p99_9),
                    us(p.p99_99),
                    us(p.max),
                    p.count
                );
            }
        }
        if !t.refused.is_empty() {
            let _ = writeln!(out, "refused    {:?}", t.refused);
        }
        if let Some(cpu) = self.cpu_percent {
            let _ = writeln!(
                out,
                "mqbench cpu {cpu:.0}% of one core; errors {}",
                self.errors
            );
        }
        out
    }

    /// Each threshold that is not met, as a sentence. Without subscribers (`pub`), `--max-p99`
    /// judges the publish-to-ack latency and `--min-rate` the publish rate.
    pub fn verdicts(&self, limits: &Limits) -> Vec<String> {
        let mut failed = Vec::new();
        let publish_only = self.settings.subscribers == 0;
        let (latency, what) = match (&self.latency_us, publish_only) {
            (None, true) => (&self.ack_latency_us, "publish-to-ack"),
            _ => (&self.latency_us, "end-to-end"),
        };
        if let (Some(max), Some(p)) = (limits.max_p99, latency) {
            if Duration::from_micros(p.p99) > max {
                let max = us(max.as_micros() as u64);
                failed.push(format!(
                    "p99 {what} latency {} is above --max-p99 {max}",
                    us(p.p99)
                ));
            }
        }
        if let Some(min) = limits.min_rate {
            let (rate, what) = match publish_only {
                true => (self.publish_rate, "publish"),
                false => (self.delivery_rate, "delivery"),
            };
            if rate < min {
                failed.push(format!(
                    "{what} rate {rate:.0} msg/s is below --min-rate {min}"
                ));
            }
        }
        if let Some(max) = limits.max_loss {
            if self.totals.lost > max {
                failed.push(format!(
                    "{} deliveries lost, more than --max-loss {max}",
                    self.totals.lost
                ));
            }
        }
        failed
    }
}

/// The thresholds that make the exit status non-zero.
#[derive(Debug, Clone, Default)]
pub struct Limits {
    /// `--max-p99`.
    pub max_p99: Option<Duration>,
    /// `--min-rate`, delivered msg/s.
    pub min_rate: Option<f64>,
    /// `--max-loss`, deliveries.
    pub max_loss: Option<u64>,
}

fn round(x: f64) -> f64 {
    if x.is_finite() {
        x.round()
    } else {
        0.0
    }
}

/// Microseconds for people: `850µs`, `2.31ms`, `1.20s`.
fn us(v: u64) -> String {
    match v {
        0..=999 => format!("{v}µs"),
        1_000..=999_999 => format!("{:.2}ms", v as f64 / 1e3),
        _ => format!("{:.2}s", v as f64 / 1e6),
    }
}

/// The `conn` scenario's settings, as reported.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConnSettings {
    /// Where.
    pub server: String,
    /// Connections to open (without churn).
    pub count: usize,
    /// Attempts per second; null when as fast as possible.
    pub rate: Option<f64>,
    /// Seconds the connections were held.
    pub hold_s: f64,
    /// Connect/disconnect cycles instead of holding.
    pub churn: bool,
    /// Churn time, seconds.
    pub duration_s: f64,
}

/// The `conn` report (`--json`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConnReport {
    /// `conn`.
    pub scenario: &'static str,
    /// What ran.
    pub settings: ConnSettings,
    /// Attempts made.
    pub attempts: u64,
    /// Successful CONNACKs.
    pub connected: u64,
    /// Failures by what failed.
    pub failed: BTreeMap<String, u64>,
    /// Successful connections per second, from the first attempt to the last one's end.
    pub connect_rate: f64,
    /// Intended start to CONNACK, µs.
    pub connect_latency_us: Option<Percentiles>,
    /// Per-second series (`sent` = connections made that second).
    pub series: Vec<Second>,
    /// mqbench's own CPU, % of one core.
    pub cpu_percent: Option<f64>,
}

impl ConnReport {
    /// The human-readable table.
    pub fn table(&self) -> String {
        let s = &self.settings;
        let mut out = String::new();
        let rate = s
            .rate
            .map_or("as fast as possible".to_string(), |r| format!("{r}/s"));
        let shape = if s.churn {
            format!("churn for {}s", s.duration_s)
        } else {
            format!("{} connections held {}s", s.count, s.hold_s)
        };
        let _ = writeln!(out, "mqbench conn against {}: {shape}, {rate}", s.server);
        let _ = writeln!(
            out,
            "connections attempted {}  connected {}  failed {}  rate {:.0}/s",
            self.attempts,
            self.connected,
            self.failed.values().sum::<u64>(),
            self.connect_rate
        );
        if let Some(p) = &self.connect_latency_us {
            let _ = writeln!(
                out,
                "connect    p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  (n={})",
                us(p.p50),
                us(p.p90),
                us(p.p99),
                us(p.p99_9),
                us(p.max),
                p.count
            );
        }
        for (why, n) in &self.failed {
            let _ = writeln!(out, "failed     {n} × {why}");
        }
        if let Some(cpu) = self.cpu_percent {
            let _ = writeln!(out, "mqbench cpu {cpu:.0}% of one core");
        }
        out
    }

    /// Each threshold that is not met (`--max-p99` on connect latency, `--min-rate` on
    /// connections per second, `--max-loss` on failed attempts).
    pub fn verdicts(&self, limits: &Limits) -> Vec<String> {
        let mut failed = Vec::new();
        if let (Some(max), Some(p)) = (limits.max_p99, &self.connect_latency_us) {
            if Duration::from_micros(p.p99) > max {
                failed.push(format!(
                    "p99 connect latency {} is above --max-p99 {}",
                    us(p.p99),
                    us(max.as_micros() as u64)
                ));
            }
        }
        if let Some(min) = limits.min_rate {
            if self.connect_rate < min {
                failed.push(format!(
                    "connect rate {:.0}/s is below --min-rate {min}",
                    self.connect_rate
                ));
            }
        }
        let failures: u64 = self.failed.values().sum();
        if let Some(max) = limits.max_loss {
            if failures > max {
                failed.push(format!(
                    "{failures} connections failed, more than --max-loss {max}"
                ));
            }
        }
        failed
    }
}
