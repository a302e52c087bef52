//! Where the password comes from, so that it need not be on the command line where `ps` shows
//! it (mosquitto #288, #3571): `-P VALUE`, `-P` alone (asked for on the terminal, not echoed),
//! `--pw-file FILE` (its first line), or the `MQKIT_PASSWORD` environment variable.

use std::io::IsTerminal;
use std::path::Path;

/// The environment variable read when no password flag is given.
pub const ENV: &str = "MQKIT_PASSWORD";

/// Resolves the password from the flags (`-P` given with or without a value, `--pw-file`) and
/// then the environment.
pub fn resolve(
    flag: Option<&Option<String>>,
    file: Option<&Path>,
) -> Result<Option<String>, String> {
    match (flag, file) {
        (Some(Some(value)), _) => Ok(Some(value.clone())),
        (Some(None), _) => prompt().map(Some),
        (None, Some(path)) => from_file(path).map(Some),
        (None, None) => Ok(std::env::var(ENV).ok()),
    }
}

fn prompt() -> Result<String, String> {
    if !std::io::stdin().is_terminal() {
        return Err("-P without a value asks on the terminal, but there is none: give -P PASSWORD, --pw-file FILE or MQKIT_PASSWORD".into());
    }
    rpassword::prompt_password("Password: ").map_err(|e| format!("cannot read the password: {e}"))
}

fn from_file(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the password file {}: {e}", path.display()))?;
    Ok(text.lines().next().unwrap_or_default().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_wins_and_a_file_gives_its_first_line() {
        let value = Some("secret".to_string());
        assert_eq!(resolve(Some(&value), None).unwrap().unwrap(), "secret");
        let dir = std::env::temp_dir().join(format!("mqkit-pw-{}", std::process::id()));
        std::fs::write(&dir, "s3cret\r\nignored\n").unwrap();
        assert_eq!(resolve(None, Some(&dir)).unwrap().unwrap(), "s3cret");
        std::fs::remove_file(&dir).unwrap();
        let e = resolve(None, Some(Path::new("/nonexistent/pw"))).unwrap_err();
        assert!(e.contains("/nonexistent/pw"), "{e}");
    }
}
