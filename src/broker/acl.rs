//! mosquitto's ACL file (`acl_file`): who may publish to and receive from which topics.
//!
//! ```text
//! # rules before the first `user` line apply to clients without a user name
//! topic read public/#
//! user alice
//! topic readwrite alice/#
//! topic deny alice/secret
//! # patterns apply to every client; %c is its client id, %u its user name
//! pattern write devices/%c/status
//! ```
//!
//! Decisions follow mosquitto 2.0: a topic is allowed when a rule of the client grants the access
//! and no `deny` rule of the client matches it; with no matching rule it is denied. A pattern
//! whose client id or user name would put a wildcard or a level separator into the filter does
//! not apply (so `%c` can never widen a rule). Beyond mosquitto 2.0.11, which grants every
//! SUBSCRIBE and filters at delivery, a SUBSCRIBE whose filter can never receive anything (no
//! read rule overlaps it, or a deny rule covers all of it) is refused with 0x87 / 0x80; overlapping
//! filters are granted and each message is still checked when it is delivered.

use std::collections::HashMap;
use std::path::Path;

use crate::topic::{matches, TopicFilter};

/// What a rule grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
    ReadWrite,
    Deny,
}

impl Access {
    fn grants(self, action: Action) -> bool {
        matches!(
            (self, action),
            (Access::ReadWrite, _) | (Access::Read, Action::Read) | (Access::Write, Action::Write)
        )
    }
}

/// What a client wants to do with a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Receive messages published to it.
    Read,
    /// Publish to it.
    Write,
}

/// One `topic` or `pattern` line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    access: Access,
    filter: String,
}

/// A parsed ACL file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AclFile {
    anonymous: Vec<Rule>,
    users: HashMap<String, Vec<Rule>>,
    patterns: Vec<Rule>,
}

/// The rules that apply to one client, patterns already filled in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientAcl {
    rules: Vec<Rule>,
}

impl AclFile {
    /// Reads `path`; an error names the file and the line that is wrong.
    pub fn read(path: &Path) -> Result<AclFile, String> {
        super::conf::read_with(path, Self::parse)
    }

    /// Parses the text of an ACL file; an error gives the line number and what is wrong.
    pub fn parse(text: &str) -> Result<AclFile, (usize, String)> {
        let mut acl = AclFile::default();
        let mut user: Option<String> = None;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (keyword, rest) = line
                .split_once(char::is_whitespace)
                .map_or((line, ""), |(k, r)| (k, r.trim()));
            let err = |why: String| (i + 1, why);
            match keyword {
                "user" if rest.is_empty() => return Err(err("user needs a user name".into())),
                "user" => user = Some(rest.to_owned()),
                "topic" | "pattern" => {
                    let rule = rule(keyword, rest).map_err(err)?;
                    match (keyword, &user) {
                        ("pattern", _) => acl.patterns.push(rule),
                        (_, Some(u)) => acl.users.entry(u.clone()).or_default().push(rule),
                        (_, None) => acl.anonymous.push(rule),
                    }
                }
                other => {
                    return Err(err(format!(
                        "unknown keyword '{other}' (expected user, topic or pattern)"
                    )))
                }
            }
        }
        Ok(acl)
    }

    /// The rules for a client with `username` (none: anonymous) and `client_id`.
    pub fn for_client(&self, username: Option<&str>, client_id: &str) -> ClientAcl {
        let own = match username {
            None => &self.anonymous[..],
            Some(u) => self.users.get(u).map_or(&[][..], Vec::as_slice),
        };
        let mut rules = own.to_vec();
        for pattern in &self.patterns {
            if let Some(filter) = substitute(&pattern.filter, username, client_id) {
                rules.push(Rule {
                    access: pattern.access,
                    filter,
                });
            }
        }
        ClientAcl { rules }
    }
}

/// `topic [read|write|readwrite|deny] FILTER`; without an access word, readwrite.
fn rule(keyword: &str, rest: &str) -> Result<Rule, String> {
    let (word, after) = rest
        .split_once(char::is_whitespace)
        .map_or((rest, ""), |(w, a)| (w, a.trim()));
    let (access, filter) = match word {
        "read" => (Access::Read, after),
        "write" => (Access::Write, after),
        "readwrite" => (Access::ReadWrite, after),
        "deny" => (Access::Deny, after),
        _ => (Access::ReadWrite, rest),
    };
    if filter.is_empty() {
        return Err(format!("{keyword} needs a topic filter"));
    }
    TopicFilter::new(filter).map_err(|e| format!("{keyword} {filter}: {e}"))?;
    Ok(Rule {
        access,
        filter: filter.to_owned(),
    })
}

/// Fills `%c` and `%u` into a pattern; `None` when the pattern needs a value the client does
/// not have or whose value contains `+`, `#` or `/`, which would change the filter's shape.
fn substitute(pattern: &str, username: Option<&str>, client_id: &str) -> Option<String> {
    let safe = |v: &str| !v.contains(['+', '#', '/']);
    let mut filter = pattern.to_owned();
    if filter.contains("%c") {
        if !safe(client_id) || client_id.is_empty() {
            return None;
        }
        filter = filter.replace("%c", client_id);
    }
    if filter.contains("%u") {
        let user = username.filter(|u| safe(u) && !u.is_empty())?;
        filter = filter.replace("%u", user);
    }
    Some(filter)
}

impl ClientAcl {
    /// Whether the client may read or write `topic` (a topic name).
    pub fn allows(&self, topic: &str, action: Action) -> bool {
        let mut granted = false;
        for rule in &self.rules {
            if !matches(&rule.filter, topic) {
                continue;
            }
            if rule.access == Access::Deny {
                return false;
            }
            granted |= rule.access.grants(action);
        }
        granted
    }

    /// Whether a subscription to `filter` (without any `$share/{group}/` prefix) could ever
    /// receive a message: a read rule overlaps it and no deny rule covers all of it.
    pub fn may_subscribe(&self, filter: &str) -> bool {
        let covered = |r: &Rule| r.access == Access::Deny && covers(&r.filter, filter);
        let overlaps = |r: &Rule| r.access.grants(Action::Read) && overlap(&r.filter, filter);
        !self.rules.iter().any(covered) && self.rules.iter().any(overlaps)
    }
}

/// Whether a topic name could match both filters.
fn overlap(a: &str, b: &str) -> bool {
    if starts_with_wildcard(a) && b.starts_with('$')
        || starts_with_wildcard(b) && a.starts_with('$')
    {
        return false;
    }
    let (mut a, mut b) = (a.split('/'), b.split('/'));
    loop {
        match (a.next(), b.next()) {
            (Some("#"), _) | (_, Some("#")) | (None, None) => return true,
            (None, Some(_)) | (Some(_), None) => return false,
            (Some(x), Some(y)) if x == "+" || y == "+" || x == y => {}
            _ => return false,
        }
    }
}

/// Whether every topic name `filter` matches is matched by `rule` too.
fn covers(rule: &str, filter: &str) -> bool {
    if starts_with_wildcard(rule) && filter.starts_with('$') {
        return false;
    }
    let (mut r, mut f) = (rule.split('/'), filter.split('/'));
    loop {
        match (r.next(), f.next()) {
            (Some("#"), _) | (None, None) => return true,
            (Some("+"), Some(y)) if y != "#" => {}
            (Some(x), Some(y)) if x == y && y != "#" && y != "+" => {}
            _ => return false,
        }
    }
}

fn starts_with_wildcard(filter: &str) -> bool {
    filter.starts_with(['+', '#'])
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# anonymous\ntopic read public/#\n\nuser alice\ntopic readwrite alice/#\n\
        topic read sensors/+/temp\ntopic deny sensors/secret/temp\ntopic write cmd/#\n\
        topic $SYS/broker/uptime\n\
        pattern readwrite clients/%c/#\npattern read users/%u/inbox\n\
        user bob\ntopic read bob/#\n";

    fn acl(user: Option<&str>, client: &str) -> ClientAcl {
        AclFile::parse(FILE).unwrap().for_client(user, client)
    }

    #[test]
    fn decisions_match_mosquitto() {
        let alice = acl(Some("alice"), "c1");
        for (topic, read, write) in [
            ("alice/x", true, true),
            ("sensors/a/temp", true, false),
            ("sensors/secret/temp", false, false),
            ("cmd/x", false, true),
            ("clients/c1/y", true, true),
            ("clients/c2/y", false, false),
            ("users/alice/inbox", true, false),
            ("users/bob/inbox", false, false),
            ("public/p", false, false),
            ("$SYS/broker/uptime", true, true),
            ("other", false, false),
        ] {
            assert_eq!(alice.allows(topic, Action::Read), read, "read {topic}");
            assert_eq!(alice.allows(topic, Action::Write), write, "write {topic}");
        }
        let anonymous = acl(None, "c9");
        assert!(anonymous.allows("public/p", Action::Read));
        assert!(!anonymous.allows("public/p", Action::Write));
        assert!(!anonymous.allows("users//inbox", Action::Read));
        assert!(anonymous.allows("clients/c9/x", Action::Write));
        let carol = acl(Some("carol"), "c3");
        assert!(!carol.allows("public/p", Action::Read));
        assert!(carol.allows("users/carol/inbox", Action::Read));
    }

    #[test]
    fn wildcards_and_separators_in_ids_never_widen_a_pattern() {
        for id in ["+", "#", "a/b", "x+", ""] {
            let c = acl(Some(id), id);
            assert!(!c.allows("clients/a/b/x", Action::Write), "{id:?}");
            assert!(!c.allows("users/a/b/inbox", Action::Read), "{id:?}");
            assert!(!c.may_subscribe("clients/+/#"), "{id:?}");
        }
    }

    #[test]
    fn subscriptions_are_granted_when_they_can_receive_something() {
        let alice = acl(Some("alice"), "c1");
        for (filter, granted) in [
            ("alice/#", true),
            ("#", true),
            ("sensors/#", true),
            ("sensors/+/temp", true),
            ("sensors/secret/temp", false),
            ("cmd/x", false),
            ("clients/c1/#", true),
            ("clients/+/#", true),
            ("clients/c2/#", false),
            ("$SYS/#", true),
            ("+/broker/uptime", true),
            ("$SYS/broker/load", false),
            ("public/#", false),
            ("alice", true),
        ] {
            assert_eq!(alice.may_subscribe(filter), granted, "{filter}");
        }
    }

    #[test]
    fn overlap_and_cover() {
        assert!(overlap("a/#", "a"));
        assert!(overlap("a/+", "+/b"));
        assert!(!overlap("a/+", "a/b/c"));
        assert!(!overlap("#", "$SYS/x"));
        assert!(overlap("$SYS/#", "$SYS/+"));
        assert!(covers("a/#", "a/b/#"));
        assert!(covers("a/+", "a/b"));
        assert!(!covers("a/+", "a/#"));
        assert!(!covers("a/b", "a/+"));
        assert!(!covers("#", "$SYS/x"));
        assert!(covers("a/#", "a"));
    }

    #[test]
    fn mistakes_name_the_line() {
        assert_eq!(AclFile::parse("user\n").unwrap_err().0, 1);
        let (line, why) = AclFile::parse("topic read a\ntopik read b\n").unwrap_err();
        assert_eq!(line, 2);
        assert!(why.contains("unknown keyword 'topik'"), "{why}");
        let (_, why) = AclFile::parse("topic read a/#/b\n").unwrap_err();
        assert!(why.starts_with("topic a/#/b:"), "{why}");
        let (_, why) = AclFile::parse("topic deny\n").unwrap_err();
        assert!(why.contains("needs a topic filter"), "{why}");
    }
}
