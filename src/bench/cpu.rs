//! mqbench's own CPU use, from `/proc/self/stat` (user + system time of every thread), so the
//! report can say how much of the machine the load generator itself took.

use std::time::{Duration, Instant};

/// Linux reports process times in clock ticks of USER_HZ, which is 100 on every architecture.
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU time and wall time at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    cpu: Option<Duration>,
    at: Instant,
}

impl Sample {
    /// Now.
    pub fn now() -> Sample {
        Sample {
            cpu: process_cpu(),
            at: Instant::now(),
        }
    }

    /// CPU time since `self` as a percentage of one core; `None` where /proc is missing.
    pub fn percent_since(&self) -> Option<f64> {
        let now = Sample::now();
        let cpu = now.cpu?.checked_sub(self.cpu?)?;
        let wall = now.at.duration_since(self.at).as_secs_f64();
        (wall > 0.0).then(|| (cpu.as_secs_f64() / wall * 1000.0).round() / 10.0)
    }
}

/// User plus system time of this process.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_secs_f64((utime + stime) / TICKS_PER_SECOND))
}

#[cfg(test)]
mod tests {
    #[test]
    fn busy_loop_shows_up() {
        let start = super::Sample::now();
        let mut x = 0u64;
        let until = std::time::Instant::now() + std::time::Duration::from_millis(200);
        while std::time::Instant::now() < until {
            x = x.wrapping_add(std::hint::black_box(1));
        }
        let pct = start.percent_since().unwrap();
        assert!(pct > 20.0, "{pct}% for a 200 ms busy loop ({x})");
    }
}
