//! What each benchmark message carries at the start of its payload so that the subscriber side
//! can measure it: the intended send time, the publisher's index and a per-publisher sequence
//! number. 20 bytes, big-endian; the rest of the payload is filler.
//!
//! The time is the *intended* send time (nanoseconds since the Unix epoch, so that a
//! `mqbench sub` in another process on the same machine can measure it), not the moment the
//! bytes left: when a paced publisher falls behind because the broker stalls, the delay shows
//! up in the latency instead of vanishing (coordinated omission).

use std::time::{SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// The stamp's size: the smallest payload mqbench can measure.
pub const STAMP_LEN: usize = 20;

/// Monotonic instants as Unix-epoch nanoseconds: read the wall clock once, then count with
/// `Instant`, so that stamps are comparable across processes yet never jump with the clock.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    instant: Instant,
    epoch_ns: u64,
}

impl Clock {
    /// A clock anchored now.
    pub fn start() -> Clock {
        let epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Clock {
            instant: Instant::now(),
            epoch_ns: u64::try_from(epoch.as_nanos()).unwrap_or(u64::MAX),
        }
    }

    /// `at` in nanoseconds since the Unix epoch.
    pub fn ns(&self, at: Instant) -> u64 {
        let since = at.saturating_duration_since(self.instant).as_nanos();
        self.epoch_ns
            .saturating_add(u64::try_from(since).unwrap_or(u64::MAX))
    }
}

/// One message's measurement header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Intended send time, nanoseconds since the Unix epoch ([`Clock`]).
    pub sent_ns: u64,
    /// Which publisher sent it.
    pub publisher: u32,
    /// The publisher's sequence number, from 0.
    pub seq: u64,
}

impl Stamp {
    /// Writes the stamp over the first [`STAMP_LEN`] bytes of `payload`.
    pub fn write(&self, payload: &mut [u8]) {
        if payload.len() < STAMP_LEN {
            return;
        }
        payload[..8].copy_from_slice(&self.sent_ns.to_be_bytes());
        payload[8..12].copy_from_slice(&self.publisher.to_be_bytes());
        payload[12..20].copy_from_slice(&self.seq.to_be_bytes());
    }

    /// Reads the stamp of a payload; `None` when it is too short to carry one.
    pub fn read(payload: &[u8]) -> Option<Stamp> {
        let sent_ns = u64::from_be_bytes(payload.get(..8)?.try_into().ok()?);
        let publisher = u32::from_be_bytes(payload.get(8..12)?.try_into().ok()?);
        let seq = u64::from_be_bytes(payload.get(12..20)?.try_into().ok()?);
        Some(Stamp {
            sent_ns,
            publisher,
            seq,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_short_payloads() {
        let stamp = Stamp {
            sent_ns: 123_456_789,
            publisher: 7,
            seq: 42,
        };
        let mut payload = vec![0xAA; 64];
        stamp.write(&mut payload);
        assert_eq!(Stamp::read(&payload), Some(stamp));
        assert_eq!(payload[20], 0xAA);
        assert_eq!(Stamp::read(&payload[..19]), None);
    }
}
