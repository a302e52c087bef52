//! Fuzz target `decode_client`: see `mqkit_fuzz::decode_client` in `fuzz/bodies.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mqkit_fuzz::decode_client(data));
