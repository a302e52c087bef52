//! `mqbroker passwd`: creates and edits password files in mosquitto_passwd's format, so one
//! file serves mqbroker and mosquitto alike. The file is rewritten through a temporary file
//! and a rename (never half-written); a new file is readable by its owner only.

use std::fs;
use std::io::Write;
use std::num::NonZeroU32;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::{bail, Context};

use crate::broker::passwd::{delete_user, hash_password, set_user};
use crate::cli::mqbroker::PasswdArgs;

/// Runs `mqbroker passwd`.
pub fn run(args: &PasswdArgs) -> anyhow::Result<()> {
    let file = &args.file;
    let old = if args.create {
        String::new()
    } else {
        fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?
    };
    let new = if args.delete {
        delete_user(&old, &args.user).map_err(anyhow::Error::msg)?
    } else {
        let password = password(args)?;
        let iterations = NonZeroU32::new(args.iterations).unwrap_or(NonZeroU32::MIN);
        let stored = hash_password(password.as_bytes(), iterations).map_err(anyhow::Error::msg)?;
        set_user(&old, &args.user, &stored).map_err(anyhow::Error::msg)?
    };
    replace(file, &new).with_context(|| format!("cannot write {}", file.display()))
}

fn password(args: &PasswdArgs) -> anyhow::Result<String> {
    match (&args.password, args.batch) {
        (Some(p), true) => Ok(p.clone()),
        (None, true) => bail!("-b needs the password after the user name"),
        (Some(_), false) => bail!("a password on the command line needs -b"),
        (None, false) => {
            let first = rpassword::prompt_password("Password: ")?;
            let again = rpassword::prompt_password("Reenter password: ")?;
            if first != again {
                bail!("passwords do not match");
            }
            Ok(first)
        }
    }
}

/// Writes `text` to `path` atomically, keeping an existing file's permissions (0600 for a new
/// one).
fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    let mode = fs::metadata(path).map_or(0o600, |m| m.permissions().mode());
    let tmp = path.with_extension("mqkit-tmp");
    let mut out = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)?;
    out.write_all(text.as_bytes())?;
    out.sync_all()?;
    fs::set_permissions(&tmp, fs::Permissions::from_mode(mode))?;
    fs::rename(&tmp, path)
}
