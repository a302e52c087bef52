//! Topic matching with 100,000 subscriptions: `Router::route` alone, followed by `merge`, and
//! `Router::deliveries` (what the broker does for every PUBLISH, `Inner::route`: it merges only
//! when more than one subscriber list matched), for a topic that matches few subscriptions and
//! one that matches many.
//!
//! The sets, 100,000 subscriptions each, one client per subscription (`u64` keys):
//!
//! - `exact`: 99,980 `sensors/{i}/temp`, 10 `sensors/+/temp`, 10 `sensors/#`.
//!   Few: `sensors/42/temp` (21 matches). Many: none exists, so no case.
//! - `wildcard`: 100,000 `sensors/+/temp`. Many: `sensors/42/temp` (100,000 matches).
//!   Few: `sensors/42/humidity` (0 matches: the walk alone).
//! - `mixed`: 89,000 `sensors/{i}/temp`, 10,000 `sensors/{i}/+`, 900 `sensors/+/temp`,
//!   100 `sensors/#`. Few: `sensors/42/humidity` (101). Many: `sensors/42/temp` (1,002).
//!
//! Before anything is timed, each case checks its number of matches.

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use mqkit::broker::router::{merge, Router, Subscription};
use mqkit::protocol::{QoS, SubscriptionOptions};
use mqkit::topic::{TopicFilter, TopicName};

/// Subscriptions in every set.
const SUBSCRIPTIONS: u64 = 100_000;

/// A set of subscriptions as `(how many, filter for the n-th)`, clients numbered in order.
type Set = &'static [(u64, fn(u64) -> String)];

const EXACT: Set = &[
    (99_980, |i| format!("sensors/{i}/temp")),
    (10, |_| "sensors/+/temp".into()),
    (10, |_| "sensors/#".into()),
];
const WILDCARD: Set = &[(100_000, |_| "sensors/+/temp".into())];
const MIXED: Set = &[
    (89_000, |i| format!("sensors/{i}/temp")),
    (10_000, |i| format!("sensors/{i}/+")),
    (900, |_| "sensors/+/temp".into()),
    (100, |_| "sensors/#".into()),
];

/// A topic to route: `(case name, topic, expected matches)`.
type Topic = (&'static str, &'static str, usize);

/// `(set name, set, topics)`.
const CASES: &[(&str, Set, &[Topic])] = &[
    ("exact", EXACT, &[("few", "sensors/42/temp", 21)]),
    (
        "wildcard",
        WILDCARD,
        &[
            ("few", "sensors/42/humidity", 0),
            ("many", "sensors/42/temp", 100_000),
        ],
    ),
    (
        "mixed",
        MIXED,
        &[
            ("few", "sensors/42/humidity", 101),
            ("many", "sensors/42/temp", 1_002),
        ],
    ),
];

fn router(set: Set) -> Router<u64> {
    let mut router = Router::new();
    let mut client = 0;
    for (count, filter) in set {
        for i in 0..*count {
            let filter = TopicFilter::new(&filter(i)).expect("valid filter");
            let options = SubscriptionOptions {
                qos: QoS::AtLeastOnce,
                ..SubscriptionOptions::default()
            };
            let sub = Subscription {
                client,
                options,
                id: None,
            };
            router.subscribe(&filter, sub);
            client += 1;
        }
    }
    assert_eq!(router.len() as u64, SUBSCRIPTIONS);
    router
}

fn routing(c: &mut Criterion) {
    for (set_name, set, cases) in CASES {
        let router = router(set);
        for (case, topic, matches) in *cases {
            let topic = TopicName::new(topic).expect("valid topic");
            let mut out = Vec::new();
            router.route(&topic, &mut out);
            assert_eq!(merge(out).len(), *matches, "{set_name}/{case}");
            assert_eq!(router.deliveries(&topic, &|_| true).len(), *matches);
            let mut group = c.benchmark_group(format!("router/{set_name}_100k/{case}_{matches}"));
            group.throughput(Throughput::Elements(1));
            if *matches > 10_000 {
                group.sample_size(20);
            }
            group.bench_function("route", |b| {
                let mut out = Vec::new();
                b.iter(|| {
                    out.clear();
                    router.route(black_box(&topic), &mut out);
                    out.len()
                })
            });
            group.bench_function("route_merge", |b| {
                b.iter(|| {
                    let mut out = Vec::new();
                    router.route(black_box(&topic), &mut out);
                    merge(out)
                })
            });
            group.bench_function("deliveries", |b| {
                b.iter(|| router.deliveries(black_box(&topic), &|_| true))
            });
            group.finish();
        }
    }
}

// What `criterion_group!`/`criterion_main!` expand to, written out: the macro's `pub fn` has no
// doc comment, which `missing_docs` flags.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    routing(&mut c);
    c.final_summary();
}
