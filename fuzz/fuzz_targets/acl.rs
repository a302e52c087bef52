//! Fuzz target `acl`: see `mqkit_fuzz::acl` in `fuzz/bodies.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mqkit_fuzz::acl(data));
