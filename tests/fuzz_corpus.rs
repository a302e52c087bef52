//! Replays the fuzz corpora on stable, without libFuzzer: every file of
//! `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/` goes through the same body the
//! fuzz target runs (`fuzz/bodies.rs`), so every input the fuzzer found interesting, and every
//! crash it found, stays a test. See `fuzz/README.md` for running the fuzzers themselves.
//!
//! `cargo test --test fuzz_corpus -- --ignored write_seed_corpora` rewrites the seed inputs
//! (`fuzz/corpus/<target>/seed-*`) from the crate's own encoder and the files in `etc/`.

#[path = "../fuzz/bodies.rs"]
mod bodies;
#[path = "fuzz_corpus/seeds.rs"]
mod seeds;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// The corpus and the crash inputs of every target.
const ALL: &[&str] = &["corpus", "regressions"];

/// The files of `fuzz/<dir>/<target>/` for each of `dirs`, sorted.
fn inputs(target: &str, dirs: &[&str]) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        files.extend(entries.map(|e| e.expect("a directory entry").path()));
    }
    files.retain(|p| p.is_file());
    files.sort();
    files
}

/// Runs `body` over every input of `target` in `dirs`, and fails naming every input that
/// panicked.
fn replay(target: &str, dirs: &[&str], body: fn(&[u8])) {
    let files = inputs(target, dirs);
    assert!(!files.is_empty(), "no inputs for {target} in {dirs:?}");
    let failed: Vec<String> = files
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).expect("a corpus file");
            catch_unwind(AssertUnwindSafe(|| body(&data))).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{target}: {} of {} inputs panicked:\n{}",
        failed.len(),
        files.len(),
        failed.join("\n")
    );
}

#[test]
fn decode_server() {
    replay("decode_server", ALL, bodies::decode_server);
}

#[test]
fn decode_client() {
    replay("decode_client", ALL, bodies::decode_client);
}

#[test]
fn topic() {
    replay("topic", ALL, bodies::topic);
}

#[test]
fn format() {
    replay("format", ALL, bodies::format);
}

/// With the crashes fuzzing found: `period()` split inside a multi-byte unit and overflowed.
#[test]
fn conf() {
    replay("conf", ALL, bodies::conf);
}

/// With the `$7$` lines asking for billions of PBKDF2 iterations that fuzzing found.
#[test]
fn passwd() {
    replay("passwd", ALL, bodies::passwd);
}

#[test]
fn acl() {
    replay("acl", ALL, bodies::acl);
}

#[test]
#[ignore = "writes fuzz/corpus/<target>/seed-*: run it on purpose to regenerate the seeds"]
fn write_seed_corpora() {
    seeds::write_all(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus"));
}
