//! Fuzz target `topic`: see `mqkit_fuzz::topic` in `fuzz/bodies.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mqkit_fuzz::topic(data));
