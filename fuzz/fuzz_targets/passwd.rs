//! Fuzz target `passwd`: see `mqkit_fuzz::passwd` in `fuzz/bodies.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mqkit_fuzz::passwd(data));
