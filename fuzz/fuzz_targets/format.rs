//! Fuzz target `format`: see `mqkit_fuzz::format` in `fuzz/bodies.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mqkit_fuzz::format(data));
