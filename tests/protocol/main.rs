//! Codec conformance tests: hand-written byte vectors for every packet, malformed input mapped to
//! reason codes, partial input, and property-based round trips.

mod malformed;
mod partial;
mod roundtrip;
mod vectors;
