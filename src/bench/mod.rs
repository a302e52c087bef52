//! The load generator behind `mqbench`: scenarios that drive many client connections, measure
//! what comes back, and report it honestly (see `report`).
//!
//! - [`stamp`]: the 20-byte header each message carries (intended send time, publisher,
//!   sequence number).
//! - [`tally`]: a subscriber's latency histogram and exact loss / duplicate / reorder counts.
//! - [`pubsub`]: publishers and subscribers in one run (also `pub` and `sub` alone).
//! - [`conn`]: opening, holding and churning connections.
//! - [`report`]: the table, the `--json` document and the threshold verdicts.
//! - [`cpu`]: mqbench's own CPU time.

pub mod conn;
pub mod cpu;
pub mod pubsub;
pub mod report;
pub mod stamp;
pub mod tally;
