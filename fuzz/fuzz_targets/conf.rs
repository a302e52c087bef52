//! Fuzz target `conf`: see `mqkit_fuzz::conf` in `fuzz/bodies.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mqkit_fuzz::conf(data));
