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
/// The corpus alone, for a target whose regressions are a known, unfixed bug.
const CORPUS: &[&str] = &["corpus"];
/// The crash inputs alone.
const REGRESSIONS: &[&str] = &["regressions"];

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

#[test]
fn conf() {
    replay("conf", CORPUS, bodies::conf);
}

/// Fold into `conf` (with `ALL`) once `period()` in `src/broker/conf.rs` is fixed.
#[test]
#[ignore = "bug: persistent_client_expiration panics in period() (src/broker/conf.rs): \
            split_at inside a multi-byte last character, and n * hours * 3600 overflows"]
fn conf_regressions() {
    replay("conf", REGRESSIONS, bodies::conf);
}

#[test]
fn passwd() {
    replay("passwd", CORPUS, bodies::passwd);
}

/// Fold into `passwd` (with `ALL`) once the iteration count of `$7$` lines is bounded.
#[test]
#[ignore = "bug: a `$7$` line's iteration count is unbounded (up to 4294967295, about an hour \
            of PBKDF2 per check, on the broker's async task): PasswordFile::check never returns"]
fn passwd_regressions() {
    replay("passwd", REGRESSIONS, bodies::passwd);
}

#[test]
#[ignore = "writes fuzz/corpus/<target>/seed-*: run it on purpose to regenerate the seeds"]
fn write_seed_corpora() {
    seeds::write_all(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus"));
}
