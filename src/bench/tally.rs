//! Counting what a subscriber receives: end-to-end latency in an HdrHistogram, and per
//! publisher the sequence numbers seen, so that loss, duplicates and reordering are counted
//! exactly. Each publisher's numbers arrive in order over one subscription [MQTT-4.6.0-5]; a
//! gap is remembered until it is filled (late: reordered) or the run ends (lost), and a number
//! seen before is a duplicate. Memory grows with gaps, not with messages.

use std::collections::{BTreeSet, HashMap};

use hdrhistogram::Histogram;

use super::stamp::Stamp;

/// Latencies are recorded in microseconds, up to an hour, with 3 significant digits.
const MAX_LATENCY_US: u64 = 3_600_000_000;

/// One publisher's sequence numbers as one subscriber saw them.
#[derive(Debug, Default, Clone)]
struct Sequence {
    /// The next number expected in order.
    next: u64,
    /// Numbers skipped over and not seen yet.
    missing: BTreeSet<u64>,
}

/// What one subscriber (or all, merged) received.
#[derive(Debug, Clone)]
pub struct Tally {
    /// End-to-end latency, microseconds.
    pub latency: Histogram<u64>,
    /// Messages received, duplicates included.
    pub received: u64,
    /// Received more than once.
    pub duplicates: u64,
    /// Arrived after a later one from the same publisher.
    pub reordered: u64,
    /// Payloads too short to carry a stamp.
    pub unstamped: u64,
    sequences: HashMap<u32, Sequence>,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            latency: new_histogram(),
            received: 0,
            duplicates: 0,
            reordered: 0,
            unstamped: 0,
            sequences: HashMap::new(),
        }
    }
}

/// An empty microsecond histogram (1 µs to an hour, 3 significant digits).
#[allow(clippy::expect_used)] // constant bounds that hdrhistogram accepts
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("valid histogram bounds")
}

impl Tally {
    /// Counts one message received at `now_ns` (a [`super::stamp::Clock`] reading). `measure`
    /// says whether its latency is recorded (false during warm-up).
    pub fn record(&mut self, payload: &[u8], now_ns: u64, measure: bool) {
        self.received += 1;
        let Some(stamp) = Stamp::read(payload) else {
            self.unstamped += 1;
            return;
        };
        if measure {
            let us = now_ns.saturating_sub(stamp.sent_ns) / 1_000;
            let _ = self.latency.record(us.clamp(1, MAX_LATENCY_US));
        }
        let seq = self.sequences.entry(stamp.publisher).or_default();
        if stamp.seq == seq.next {
            seq.next += 1;
        } else if stamp.seq > seq.next {
            seq.missing.extend(seq.next..stamp.seq);
            seq.next = stamp.seq + 1;
        } else if seq.missing.remove(&stamp.seq) {
            self.reordered += 1;
        } else {
            self.duplicates += 1;
        }
    }

    /// Distinct messages received from `publisher` among its first `sent` ones.
    pub fn unique_from(&self, publisher: u32, sent: u64) -> u64 {
        match self.sequences.get(&publisher) {
            None => 0,
            Some(s) => {
                let seen_below = s.next.min(sent);
                let missing = s.missing.range(..seen_below).count() as u64;
                seen_below - missing
            }
        }
    }

    /// Sequence numbers skipped and never seen, over every publisher (loss when the publishers'
    /// own counts are not known, as with `mqbench sub`).
    pub fn gaps(&self) -> u64 {
        self.sequences
            .values()
            .map(|s| s.missing.len() as u64)
            .sum()
    }

    /// Adds `other`'s counts and latencies to these (sequences are per subscriber and not
    /// merged: loss is computed per subscriber first).
    pub fn merge_counts(&mut self, other: &Tally) {
        let _ = self.latency.add(&other.latency);
        self.received += other.received;
        self.duplicates += other.duplicates;
        self.reordered += other.reordered;
        self.unstamped += other.unstamped;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(publisher: u32, seq: u64) -> Vec<u8> {
        let mut p = vec![0; 32];
        Stamp {
            sent_ns: 1_000_000,
            publisher,
            seq,
        }
        .write(&mut p);
        p
    }

    #[test]
    fn counts_loss_duplicates_and_reordering() {
        let mut t = Tally::default();
        for seq in [0, 1, 3, 2, 3, 6] {
            t.record(&payload(1, seq), 3_000_000, true);
        }
        t.record(&payload(2, 0), 3_000_000, true);
        assert_eq!(t.received, 7);
        assert_eq!(t.duplicates, 1);
        assert_eq!(t.reordered, 1);
        // 0,1,2,3,6 of 0..=7: 4, 5 and 7 are lost.
        assert_eq!(t.unique_from(1, 8), 5);
        assert_eq!(t.unique_from(2, 1), 1);
        assert_eq!(t.unique_from(3, 10), 0);
        assert_eq!(t.latency.len(), 7);
        assert_eq!(t.latency.max(), 2_000);
    }

    #[test]
    fn short_payloads_are_counted_as_unstamped() {
        let mut t = Tally::default();
        t.record(b"short", 10, true);
        assert_eq!((t.received, t.unstamped), (1, 1));
    }
}
