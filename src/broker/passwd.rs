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
        Ok(PasswordFile { users })
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
            None => false,
        }
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
                .map_err(|_| format!("invalid iteration count '{iterations}'"))?,
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
    fn errors_name_the_line() {
        let (line, why) = PasswordFile::parse("# users\nalice:plain\n").unwrap_err();
        assert_eq!(line, 2);
        assert!(why.contains("mosquitto_passwd -U"), "{why}");
        assert_eq!(PasswordFile::parse("nocolon\n").unwrap_err().0, 1);
    }
}
