//! Fuzz target `decode_server`: see `mqkit_fuzz::decode_server` in `fuzz/bodies.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mqkit_fuzz::decode_server(data));
