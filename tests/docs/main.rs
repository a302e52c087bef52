//! The checked-in man pages and completions match what the clap definitions generate. When this
//! fails, regenerate them with `MQKIT_BLESS=1 cargo test --test docs` and commit the result.
//! The hand-written `man/mqbroker.conf.5` documents exactly the options mqbroker supports.

use std::path::Path;

use clap::CommandFactory;
use mqkit::cli::generate::{generate, Generate};

fn check(cmd: clap::Command, section: &str) {
    let name = cmd.get_name().to_owned();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bless = std::env::var_os("MQKIT_BLESS").is_some();
    let mut stale = Vec::new();
    for kind in Generate::ALL {
        let mut fresh = Vec::new();
        generate(cmd.clone(), section, kind, &mut fresh).unwrap();
        let path = root.join(kind.path(&name, section));
        if bless {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &fresh).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(&fresh[..]) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated docs: {stale:?}\nregenerate with: MQKIT_BLESS=1 cargo test --test docs"
    );
}

#[test]
fn mqbroker_man_page_and_completions_are_current() {
    check(
        mqkit::cli::mqbroker::Args::command(),
        mqkit::cli::mqbroker::MAN_SECTION,
    );
}

#[test]
fn mqpub_man_page_and_completions_are_current() {
    check(
        mqkit::cli::mqpub::Args::command(),
        mqkit::cli::mqpub::MAN_SECTION,
    );
}

#[test]
fn mqsub_man_page_and_completions_are_current() {
    check(
        mqkit::cli::mqsub::Args::command(),
        mqkit::cli::mqsub::MAN_SECTION,
    );
}

#[test]
fn mqbench_man_page_and_completions_are_current() {
    check(
        mqkit::cli::mqbench::Args::command(),
        mqkit::cli::mqbench::MAN_SECTION,
    );
}

/// `TOOL --generate man` prints the page that `man/` holds.
fn generate_flag_prints_the_man_page(binary: &str, name: &str) {
    let out = std::process::Command::new(binary)
        .args(["--generate", "man"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq"),
        "{}",
        &page[..page.len().min(80)]
    );
    assert!(page.contains(name));
}

#[test]
fn generate_flag_prints_the_man_page_in_every_tool() {
    generate_flag_prints_the_man_page(env!("CARGO_BIN_EXE_mqbroker"), "mqbroker");
    generate_flag_prints_the_man_page(env!("CARGO_BIN_EXE_mqpub"), "mqpub");
    generate_flag_prints_the_man_page(env!("CARGO_BIN_EXE_mqsub"), "mqsub");
    generate_flag_prints_the_man_page(env!("CARGO_BIN_EXE_mqbench"), "mqbench");
}

#[test]
fn mqbroker_rejects_an_unknown_generate_kind_with_exit_2() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mqbroker"))
        .args(["--generate", "html"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("invalid value 'html'"), "{err}");
}

/// The options `man/mqbroker.conf.5` documents: the first word of the line after each `.TP`
/// outside indented (`.RS`) lists.
fn documented_options(page: &str) -> Vec<String> {
    let mut depth = 0usize;
    let mut after_tp = false;
    let mut keys = Vec::new();
    for line in page.lines() {
        match line.split_whitespace().next() {
            Some(".RS") => depth += 1,
            Some(".RE") => depth = depth.saturating_sub(1),
            Some(".B" | ".BI") if after_tp && depth == 0 => {
                let word = line.split_whitespace().nth(1).unwrap_or_default();
                keys.push(word.trim_matches('"').to_owned());
            }
            _ => {}
        }
        after_tp = line == ".TP";
    }
    keys
}

/// `man/mqbroker.conf.5` documents exactly the options mqbroker supports, each once, and lists
/// every option it refuses by name.
#[test]
fn mqbroker_conf_man_page_documents_every_supported_option() {
    use mqkit::broker::conf::{NOT_YET, SUPPORTED};
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("man/mqbroker.conf.5");
    let page = std::fs::read_to_string(&path).unwrap();
    let mut documented = documented_options(&page);
    documented.sort();
    let mut supported: Vec<String> = SUPPORTED.iter().map(|k| k.to_string()).collect();
    supported.sort();
    let missing: Vec<&String> = supported
        .iter()
        .filter(|k| !documented.contains(k))
        .collect();
    let extra: Vec<&String> = documented
        .iter()
        .filter(|k| !supported.contains(k))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "man/mqbroker.conf.5: not documented: {missing:?}; documented but not supported: {extra:?}"
    );
    assert_eq!(documented, supported, "an option is documented twice");
    let refused = page
        .split(".SH \"NOT SUPPORTED\"")
        .nth(1)
        .and_then(|rest| rest.split("\n.SH").next())
        .expect("a NOT SUPPORTED section");
    for key in NOT_YET {
        assert!(
            refused.contains(&format!("\\fB{key}\\fR")),
            "man/mqbroker.conf.5 does not list the refused option '{key}'"
        );
    }
}
