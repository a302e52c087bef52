//! The per-user defaults file, as mosquitto's clients read theirs: `$XDG_CONFIG_HOME/mqpub`
//! (else `~/.config/mqpub`; likewise `mqsub`), or the file named by `-o FILE`. One option per
//! line (`-h broker.local`, `--pw-file /run/secrets/mqtt`, `-V 5`); `#` starts a comment line.
//! Its options go before the command line's, so the command line wins (clap is told to let a
//! later occurrence override an earlier one) and repeatable options such as `-t` add up.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// `argv` with the defaults file's options inserted after the program name.
pub fn with_defaults(tool: &str, argv: Vec<OsString>) -> Result<Vec<OsString>, String> {
    let (path, required) = match options_file(&argv) {
        Some(path) => (Some(path), true),
        None => (default_path(tool), false),
    };
    let Some(path) = path else {
        return Ok(argv);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if required || e.kind() != std::io::ErrorKind::NotFound => {
            return Err(format!("cannot read options file {}: {e}", path.display()))
        }
        Err(_) => return Ok(argv),
    };
    let mut args = argv.into_iter();
    let mut out: Vec<OsString> = args.next().into_iter().collect();
    out.extend(parse(&text).into_iter().map(OsString::from));
    out.extend(args);
    Ok(out)
}

/// The file given with `-o` / `--options-file`, if any.
fn options_file(argv: &[OsString]) -> Option<PathBuf> {
    let mut it = argv.iter().skip(1);
    while let Some(arg) = it.next() {
        if arg == "-o" || arg == "--options-file" {
            return it.next().map(PathBuf::from);
        }
        if let Some(value) = arg.to_str().and_then(|a| a.strip_prefix("--options-file=")) {
            return Some(PathBuf::from(value));
        }
    }
    None
}

fn default_path(tool: &str) -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")))?;
    Some(base.join(tool))
}

/// Splits each line into the option and the rest of the line as its value.
fn parse(text: &str) -> Vec<String> {
    let mut args = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once(char::is_whitespace) {
            Some((opt, value)) => {
                args.push(opt.to_string());
                args.push(value.trim_start().to_string());
            }
            None => args.push(line.to_string()),
        }
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_options_before_argv() {
        assert_eq!(
            parse("# comment\n-h broker.local\n\n-m hello world\n-r\n"),
            ["-h", "broker.local", "-m", "hello world", "-r"]
        );
        let dir = std::env::temp_dir().join(format!("mqkit-defaults-{}", std::process::id()));
        std::fs::write(&dir, "-p 1884\n").unwrap();
        let argv: Vec<OsString> = ["mqpub", "-o", dir.to_str().unwrap(), "-t", "a"]
            .iter()
            .map(OsString::from)
            .collect();
        let all = with_defaults("mqpub", argv).unwrap();
        assert_eq!(all[..3], ["mqpub", "-p", "1884"].map(OsString::from));
        std::fs::remove_file(&dir).unwrap();
    }

    #[test]
    fn a_named_file_must_exist() {
        let argv: Vec<OsString> = ["mqsub", "-o", "/nonexistent/opts"]
            .iter()
            .map(OsString::from)
            .collect();
        let e = with_defaults("mqsub", argv).unwrap_err();
        assert!(e.contains("/nonexistent/opts"), "{e}");
    }
}
