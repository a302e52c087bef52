//! mosquitto's password file: `user:$7$ITERATIONS$SALT$HASH` (PBKDF2-HMAC-SHA512, what
//! `mosquitto_passwd` 2.0 writes) and the older `user:$6$SALT$HASH` (SHA-512 of the password
//! followed by the salt), salts and hashes in base64. Checks run in constant time (ring).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::path::Path;

use base64::Engine as _;
use ring::{digest, pbkdf2};

/// One user's stored hash.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Hash {
    /// `$7$`: PBKDF2-HMAC-SHA512.
    Pbkdf2 {
        iterations: NonZeroU32,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    /// `$6$`: SHA-512(password ‖ salt).
    Sha512 { salt: Vec<u8>, hash: Vec<u8> },
}

/// The users of a password file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PasswordFile {
    users: HashMap<String, Hash>,
    /// PBKDF2 iterations spent on an unknown user: the costliest `$7$` hash's.
    dummy_iterations: Option<NonZeroU32>,
}

impl PasswordFile {
    /// Reads `path`; an error names the line that is wrong.
    pub fn read(path: &Path) -> Result<PasswordFile, String> {
        super::conf::read_with(path, Self::parse)
    }

    /// Parses the text of a password file.
    pub fn parse(text: &str) -> Result<PasswordFile, (usize, String)> {
        let mut users = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_end();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (user, stored) = line
                .split_once(':')
                .ok_or((i + 1, "expected user:hash".to_string()))?;
            users.insert(user.to_string(), hash(stored).map_err(|why| (i + 1, why))?);
        }
        let dummy_iterations = users
            .values()
            .filter_map(|h| match h {
                Hash::Pbkdf2 { iterations, .. } => Some(*iterations),
                Hash::Sha512 { .. } => None,
            })
            .max();
        Ok(PasswordFile {
            users,
            dummy_iterations,
        })
    }

    /// Whether `password` is `user`'s.
    pub fn check(&self, user: &str, password: &[u8]) -> bool {
        match self.users.get(user) {
            Some(Hash::Pbkdf2 {
                iterations,
                salt,
                hash,
            }) => {
                let alg = pbkdf2::PBKDF2_HMAC_SHA512;
                pbkdf2::verify(alg, *iterations, salt, password, hash).is_ok()
            }
            Some(Hash::Sha512 { salt, hash }) => {
                let mut ctx = digest::Context::new(&digest::SHA512);
                ctx.update(password);
                ctx.update(salt);
                constant_time_eq(ctx.finish().as_ref(), hash)
            }
            None => {
                // As much work as for a known user, so timing does not tell who exists.
                let alg = pbkdf2::PBKDF2_HMAC_SHA512;
                let _ = pbkdf2::verify(alg, self.dummy_iterations(), b"mqkit", password, &[0; 64]);
                false
            }
        }
    }

    /// The iterations of the costliest `$7$` hash (mosquitto_passwd's default without one).
    fn dummy_iterations(&self) -> NonZeroU32 {
        let default = NonZeroU32::new(DEFAULT_ITERATIONS).unwrap_or(NonZeroU32::MIN);
        self.dummy_iterations.unwrap_or(default)
    }

    /// How many users the file has.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether the file has no users.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

/// The iterations `mosquitto_passwd` 2.0 uses for new `$7$` hashes.
pub const DEFAULT_ITERATIONS: u32 = 101;

/// The most iterations a `$7$` hash may ask for: a check runs on the connection's task, and a
/// million already takes most of a second (fuzzing found a file asking for 4,294,967,295, about
/// an hour per login).
pub const MAX_ITERATIONS: u32 = 1_000_000;

/// The stored form (`$7$ITERATIONS$SALT$HASH`) of `password`, with a fresh 12-byte salt, as
/// `mosquitto_passwd` 2.0 writes it.
pub fn hash_password(password: &[u8], iterations: NonZeroU32) -> Result<String, String> {
    use ring::rand::SecureRandom;
    let mut salt = [0u8; 12];
    ring::rand::SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| "no random numbers for the salt".to_owned())?;
    let mut hash = [0u8; 64];
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA512,
        iterations,
        &salt,
        password,
        &mut hash,
    );
    let enc = base64::engine::general_purpose::STANDARD;
    Ok(format!(
        "$7${iterations}${}${}",
        enc.encode(salt),
        enc.encode(hash)
    ))
}

/// `text` (a password file) with `user`'s line set to `stored`: replaced where it was, or
/// appended; every other line kept as it is.
pub fn set_user(text: &str, user: &str, stored: &str) -> Result<String, String> {
    if user.is_empty() || user.contains(':') {
        return Err(format!(
            "invalid user name '{user}': it must be non-empty, without ':'"
        ));
    }
    let line = format!("{user}:{stored}");
    let mut found = false;
    let mut out: Vec<&str> = Vec::new();
    for l in text.lines() {
        if is_users_line(l, user) {
            if !found {
                out.push(&line);
            }
            found = true;
        } else {
            out.push(l);
        }
    }
    if !found {
        out.push(&line);
    }
    Ok(out.join("\n") + "\n")
}

/// `text` without `user`'s line; an error when there is none.
pub fn delete_user(text: &str, user: &str) -> Result<String, String> {
    if !text.lines().any(|l| is_users_line(l, user)) {
        return Err(format!("user '{user}' is not in the password file"));
    }
    let kept: Vec<&str> = text.lines().filter(|l| !is_users_line(l, user)).collect();
    Ok(kept.iter().map(|l| format!("{l}\n")).collect())
}

fn is_users_line(line: &str, user: &str) -> bool {
    line.split_once(':').is_some_and(|(u, _)| u == user)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn b64(s: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|e| format!("invalid base64 '{s}': {e}"))
}

fn hash(stored: &str) -> Result<Hash, String> {
    let parts: Vec<&str> = stored.split('$').collect();
    match parts.as_slice() {
        ["", "7", iterations, salt, hash] => Ok(Hash::Pbkdf2 {
            iterations: iterations
                .parse()
                .ok()
                .filter(|n: &NonZeroU32| n.get() <= MAX_ITERATIONS)
                .ok_or(format!(
                    "invalid iteration count '{iterations}' (1 to {MAX_ITERATIONS})"
                ))?,
            salt: b64(salt)?,
            hash: b64(hash)?,
        }),
        ["", "6", salt, hash] => Ok(Hash::Sha512 {
            salt: b64(salt)?,
            hash: b64(hash)?,
        }),
        _ => Err("unknown hash format (expected $7$ or $6$, as mosquitto_passwd writes; plain-text passwords must be hashed with mosquitto_passwd -U)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written by Debian's `mosquitto_passwd -b -c FILE alice secret` (2.0.11).
    const ALICE: &str = "alice:$7$101$wm/mBSLaoiPiktzO$pbOQCny5d2ClOESJaQmAXpmGPDOl3jOy5uz4Koch7L00ViIJZ93eNMSE1ckvph1XmPYwP8lsofl0r3CwwEfkqg==";

    #[test]
    fn checks_mosquitto_passwd_pbkdf2_hashes() {
        let file = PasswordFile::parse(ALICE).unwrap();
        assert!(file.check("alice", b"secret"));
        assert!(!file.check("alice", b"Secret"));
        assert!(!file.check("bob", b"secret"));
    }

    #[test]
    fn checks_sha512_hashes() {
        let salt = b"0123456789ab";
        let mut ctx = digest::Context::new(&digest::SHA512);
        ctx.update(b"pw");
        ctx.update(salt);
        let enc = base64::engine::general_purpose::STANDARD;
        let line = format!("bob:$6${}${}", enc.encode(salt), enc.encode(ctx.finish()));
        let file = PasswordFile::parse(&line).unwrap();
        assert!(file.check("bob", b"pw") && !file.check("bob", b"px"));
    }

    #[test]
    fn new_hashes_check_and_edits_keep_other_lines() {
        let iterations = NonZeroU32::new(DEFAULT_ITERATIONS).unwrap();
        let stored = hash_password(b"pw", iterations).unwrap();
        assert!(stored.starts_with("$7$101$"), "{stored}");
        let text = set_user(&format!("# users\n{ALICE}\n"), "bob", &stored).unwrap();
        let file = PasswordFile::parse(&text).unwrap();
        assert!(file.check("bob", b"pw") && file.check("alice", b"secret"));
        let again = hash_password(b"new", iterations).unwrap();
        assert_ne!(again, stored, "a fresh salt each time");
        let text = set_user(&text, "bob", &again).unwrap();
        assert_eq!(text.lines().count(), 3, "{text}");
        assert!(PasswordFile::parse(&text).unwrap().check("bob", b"new"));
        let text = delete_user(&text, "alice").unwrap();
        assert!(text.starts_with("# users\nbob:$7$"), "{text}");
        assert!(delete_user(&text, "alice").is_err());
        assert!(set_user("", "a:b", &again).is_err());
    }

    #[test]
    fn errors_name_the_line() {
        let (line, why) = PasswordFile::parse("# users\nalice:plain\n").unwrap_err();
        assert_eq!(line, 2);
        assert!(why.contains("mosquitto_passwd -U"), "{why}");
        assert_eq!(PasswordFile::parse("nocolon\n").unwrap_err().0, 1);
    }
}
