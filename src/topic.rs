//! Topic names and topic filters (MQTT 3.1.1 §4.7, 5.0 §4.7, shared subscriptions 5.0 §4.8.2).
//!
//! A [`TopicName`] is where a PUBLISH goes; a [`TopicFilter`] is what a SUBSCRIBE asks for, with
//! the wildcards `+` and `#`, and possibly as a shared subscription `$share/{ShareName}/{filter}`.
//! Both are checked once, on construction, and keep the zero-copy [`MqttString`] they were built
//! from, so the codec hands over a slice of its read buffer and nothing downstream re-validates.
//!
//! [`matches()`] decides whether a filter matches a topic name without allocating: the broker calls
//! it for every subscription a message might reach.
//!
//! Statement numbers are those of MQTT 3.1.1 unless marked; where 5.0 numbers the same rule
//! differently, the error message gives both.

use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use crate::protocol::{contains_any, MqttString, StringError};

/// The prefix that makes a topic filter a shared subscription (5.0 §4.8.2).
const SHARE_PREFIX: &str = "$share/";

/// Why a string is not a valid topic name or topic filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum TopicError {
    /// Zero length [MQTT-4.7.3-1]. The one empty topic is [`TopicName::empty`], which a v5 PUBLISH
    /// carries when it uses a Topic Alias.
    #[error("topic names and topic filters must be at least one character long [MQTT-4.7.3-1]")]
    Empty,
    /// Longer than 65,535 bytes [MQTT-4.7.3-3].
    #[error("topic is {0} bytes long, more than the 65,535 allowed [MQTT-4.7.3-3]")]
    TooLong(usize),
    /// Contains U+0000 [MQTT-4.7.3-2].
    #[error("topic contains the null character U+0000 [MQTT-4.7.3-2]")]
    NullCharacter,
    /// Not well-formed UTF-8 [MQTT-1.5.3-1] (5.0: [MQTT-1.5.4-1]).
    #[error("topic is not well-formed UTF-8 [MQTT-1.5.3-1; 5.0: MQTT-1.5.4-1]")]
    InvalidUtf8,
    /// A topic name contains `+` or `#` [MQTT-3.3.2-2, MQTT-4.7.1-1] (5.0: [MQTT-4.7.0-1]).
    #[error("a topic name must not contain the wildcard characters '+' or '#' [MQTT-3.3.2-2]")]
    WildcardInName,
    /// A `#` that is not alone in the last level of a filter [MQTT-4.7.1-2] (5.0: [MQTT-4.7.1-1]).
    #[error(
        "'#' must be the last level of a topic filter, alone in it [MQTT-4.7.1-2; 5.0: MQTT-4.7.1-1]"
    )]
    MisplacedMultiLevelWildcard,
    /// A `+` that does not occupy a whole level of a filter [MQTT-4.7.1-3] (5.0: [MQTT-4.7.1-2]).
    #[error("'+' must occupy an entire level of a topic filter [MQTT-4.7.1-3; 5.0: MQTT-4.7.1-2]")]
    MisplacedSingleLevelWildcard,
    /// A `$share/` filter whose ShareName is empty [MQTT-4.8.2-1] or contains `+` or `#`
    /// [MQTT-4.8.2-2].
    #[error(
        "a ShareName must be at least one character long and must not contain '+' or '#' \
         [MQTT-4.8.2-1, MQTT-4.8.2-2]"
    )]
    InvalidShareName,
    /// A `$share/{ShareName}` not followed by `/` and a non-empty topic filter [MQTT-4.8.2-2].
    #[error("a ShareName must be followed by '/' and a topic filter [MQTT-4.8.2-2]")]
    MissingSharedFilter,
}

impl From<StringError> for TopicError {
    fn from(err: StringError) -> Self {
        match err {
            StringError::InvalidUtf8 => TopicError::InvalidUtf8,
            StringError::NullCharacter => TopicError::NullCharacter,
            StringError::TooLong(len) => TopicError::TooLong(len),
        }
    }
}

/// A topic name: where a PUBLISH is sent. Never contains a wildcard, and is never empty except
/// for [`TopicName::empty`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicName(MqttString);

impl TopicName {
    /// Checks `s` and copies it.
    pub fn new(s: &str) -> Result<Self, TopicError> {
        Self::from_mqtt_string(MqttString::new(s)?)
    }

    /// Checks `s` and wraps it without copying: non-empty [MQTT-4.7.3-1], no `+` or `#`
    /// [MQTT-3.3.2-2].
    pub fn from_mqtt_string(s: MqttString) -> Result<Self, TopicError> {
        check_name(&s)?;
        Ok(TopicName(s))
    }

    /// Wraps a string that [`check_name`] accepted, or the empty string that stands for a Topic
    /// Alias (the same as [`TopicName::empty`]).
    #[inline]
    pub(crate) fn from_checked(s: MqttString) -> Self {
        TopicName(s)
    }

    /// The zero-length topic name a v5 PUBLISH carries when it relies on a Topic Alias
    /// (5.0 §3.3.2.3.4). It matches no filter; resolve the alias before routing.
    pub fn empty() -> Self {
        TopicName(MqttString::default())
    }

    /// Whether this is the Topic Alias placeholder of [`TopicName::empty`].
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The topic name.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The same topic in memory of its own ([`MqttString::detached`]).
    pub fn detached(&self) -> Self {
        TopicName(self.0.detached())
    }

    /// The underlying string, to encode or share without copying.
    pub fn as_mqtt_string(&self) -> &MqttString {
        &self.0
    }

    /// Gives back the underlying string.
    pub fn into_mqtt_string(self) -> MqttString {
        self.0
    }

    /// Whether the name starts with `$` (e.g. `$SYS/...`), which filters starting with a
    /// wildcard never match [MQTT-4.7.2-1].
    pub fn is_system(&self) -> bool {
        self.as_str().starts_with('$')
    }
}

/// A topic filter: what a SUBSCRIBE or UNSUBSCRIBE names, possibly with wildcards, possibly a
/// shared subscription `$share/{ShareName}/{filter}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicFilter(MqttString);

/// The parts of a shared subscription's filter `$share/{group}/{filter}` (5.0 §4.8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SharedFilter<'a> {
    /// The ShareName: which group of subscribers shares the messages.
    pub group: &'a str,
    /// The filter the group subscribes to, used for matching.
    pub filter: &'a str,
}

impl TopicFilter {
    /// Checks `s` and copies it.
    pub fn new(s: &str) -> Result<Self, TopicError> {
        Self::from_mqtt_string(MqttString::new(s)?)
    }

    /// Checks `s` and wraps it without copying: non-empty [MQTT-4.7.3-1], `#` only alone in the
    /// last level [MQTT-4.7.1-2], `+` only as a whole level [MQTT-4.7.1-3]; a filter starting
    /// with `$share/` must be `$share/{ShareName}/{filter}` [MQTT-4.8.2-1, MQTT-4.8.2-2].
    pub fn from_mqtt_string(s: MqttString) -> Result<Self, TopicError> {
        match s.strip_prefix(SHARE_PREFIX) {
            Some(rest) => check_shared_filter(rest)?,
            None => check_filter(&s)?,
        }
        Ok(TopicFilter(s))
    }

    /// The whole filter, including any `$share/{ShareName}/` prefix.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The underlying string, to encode or share without copying.
    pub fn as_mqtt_string(&self) -> &MqttString {
        &self.0
    }

    /// Gives back the underlying string.
    pub fn into_mqtt_string(self) -> MqttString {
        self.0
    }

    /// Whether the filter used for matching contains `+` or `#`.
    pub fn has_wildcards(&self) -> bool {
        self.matching_filter()
            .bytes()
            .any(|b| b == b'+' || b == b'#')
    }

    /// The ShareName and filter of a shared subscription; `None` for an ordinary filter.
    pub fn shared(&self) -> Option<SharedFilter<'_>> {
        split_shared(self.as_str()).map(|(group, filter)| SharedFilter { group, filter })
    }

    /// The filter topic names are matched against: `a/+` for `$share/g/a/+`, otherwise the
    /// whole filter.
    pub fn matching_filter(&self) -> &str {
        match split_shared(self.as_str()) {
            Some((_, filter)) => filter,
            None => self.as_str(),
        }
    }

    /// Whether this filter matches `topic` (see [`matches()`]).
    pub fn matches(&self, topic: &TopicName) -> bool {
        matches(self.matching_filter(), topic.as_str())
    }
}

/// Splits `$share/{group}/{filter}` without checking either part; `None` without the prefix.
fn split_shared(s: &str) -> Option<(&str, &str)> {
    s.strip_prefix(SHARE_PREFIX)?.split_once('/')
}

/// Checks what follows `$share/` [MQTT-4.8.2-1, MQTT-4.8.2-2], and the filter it shares.
fn check_shared_filter(rest: &str) -> Result<(), TopicError> {
    let (group, filter) = rest.split_once('/').unwrap_or((rest, ""));
    // The ShareName ends at the first '/', so it cannot contain one.
    if group.is_empty() || group.contains(['+', '#']) {
        return Err(TopicError::InvalidShareName);
    }
    if filter.is_empty() {
        return Err(TopicError::MissingSharedFilter);
    }
    check_filter(filter)
}

/// Checks an ordinary (not shared) filter: non-empty and wildcards only as whole levels, `#`
/// only last.
/// Checks a topic name: non-empty [MQTT-4.7.3-1], no `+` or `#` [MQTT-3.3.2-2].
pub(crate) fn check_name(name: &str) -> Result<(), TopicError> {
    if name.is_empty() {
        return Err(TopicError::Empty);
    }
    if contains_any(name.as_bytes(), [b'+', b'#']) {
        return Err(TopicError::WildcardInName);
    }
    Ok(())
}

fn check_filter(filter: &str) -> Result<(), TopicError> {
    if filter.is_empty() {
        return Err(TopicError::Empty);
    }
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        if level.contains('#') && (level != "#" || levels.peek().is_some()) {
            return Err(TopicError::MisplacedMultiLevelWildcard);
        }
        if level.contains('+') && level != "+" {
            return Err(TopicError::MisplacedSingleLevelWildcard);
        }
    }
    Ok(())
}

/// Whether `filter` (already valid, without any `$share` prefix) matches `topic` (a valid topic
/// name).
///
/// Levels are compared one by one, case-sensitively; empty levels count (`a/+/b` matches `a//b`).
/// `+` matches exactly one level, `#` the parent level and any number of child levels
/// (`sport/#` matches `sport`, `sport/` and `sport/tennis/player1`). Filters starting with a
/// wildcard do not match names starting with `$` [MQTT-4.7.2-1]. The empty Topic Alias
/// placeholder ([`TopicName::empty`]) matches nothing.
///
/// Allocates nothing and never panics; for input that is not valid the answer is unspecified.
pub fn matches(filter: &str, topic: &str) -> bool {
    let (filter, topic) = (filter.as_bytes(), topic.as_bytes());
    match topic.first() {
        None => return false,
        Some(b'$') if matches!(filter.first(), Some(b'+' | b'#')) => return false,
        Some(_) => {}
    }
    // One pass over both strings, comparing bytes as it goes instead of first finding where
    // each level ends. `f` and `t` are at the start of a level of each.
    let (mut f, mut t) = (0, 0);
    loop {
        match filter.get(f) {
            // In a valid filter, '#' opening a level is the whole last level: it matches the
            // rest of the topic, however many levels that is, even none ("sport/#", "sport/").
            Some(b'#') => return true,
            Some(b'+') if matches!(filter.get(f + 1), None | Some(b'/')) => {
                f += 1;
                t = level_end(topic, t);
            }
            _ => {
                while let Some(&c) = filter.get(f) {
                    if c == b'/' {
                        break;
                    }
                    if topic.get(t) != Some(&c) {
                        return false;
                    }
                    (f, t) = (f + 1, t + 1);
                }
            }
        }
        match (filter.get(f), topic.get(t)) {
            (None, None) => return true,
            (Some(b'/'), Some(b'/')) => (f, t) = (f + 1, t + 1),
            // The topic ended: only a final "/#" is left to match, as '#' includes the parent
            // level ("sport/#" matches "sport").
            (Some(b'/'), None) => return filter.get(f + 1..) == Some(b"#"),
            _ => return false,
        }
    }
}

/// The index of the '/' ending the level of `topic` that starts at `start`, or its length.
fn level_end(topic: &[u8], start: usize) -> usize {
    topic
        .get(start..)
        .and_then(|rest| rest.iter().position(|&b| b == b'/'))
        .map_or(topic.len(), |len| start + len)
}

/// The conversions and comparisons both newtypes share with the string they wrap.
macro_rules! string_newtype_impls {
    ($ty:ident) => {
        impl Deref for $ty {
            type Target = str;
            fn deref(&self) -> &str {
                self.as_str()
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = TopicError;
            fn from_str(s: &str) -> Result<Self, TopicError> {
                Self::new(s)
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = TopicError;
            fn try_from(s: &str) -> Result<Self, TopicError> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = TopicError;
            fn try_from(s: String) -> Result<Self, TopicError> {
                Self::from_mqtt_string(MqttString::try_from(s)?)
            }
        }

        impl TryFrom<MqttString> for $ty {
            type Error = TopicError;
            fn try_from(s: MqttString) -> Result<Self, TopicError> {
                Self::from_mqtt_string(s)
            }
        }

        impl From<$ty> for MqttString {
            fn from(topic: $ty) -> MqttString {
                topic.into_mqtt_string()
            }
        }

        impl PartialEq<str> for $ty {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $ty {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}

string_newtype_impls!(TopicName);
string_newtype_impls!(TopicFilter);

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use proptest::prelude::*;
    use TopicError as E;

    fn name(s: &str) -> TopicName {
        TopicName::new(s).unwrap_or_else(|e| panic!("{s:?} should be a valid topic name: {e}"))
    }

    fn filter(s: &str) -> TopicFilter {
        TopicFilter::new(s).unwrap_or_else(|e| panic!("{s:?} should be a valid topic filter: {e}"))
    }

    /// Runs a table of (filter, topic, expected) and reports every row that disagrees.
    fn check_matching(table: &[(&str, &str, bool)]) {
        let wrong: Vec<String> = table
            .iter()
            .filter(|&&(f, t, want)| filter(f).matches(&name(t)) != want)
            .map(|(f, t, want)| format!("filter {f:?} topic {t:?}: expected {want}"))
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    // ---- Validation ----

    #[test]
    fn valid_topic_names() {
        for s in [
            "sport/tennis/player1", // §4.7.1.1
            "/finance",             // §4.7.3: a leading '/' makes an empty first level
            "/",                    // two empty levels
            "a//b",                 // empty levels are allowed
            "sport/",
            "$SYS/broker/uptime", // [MQTT-4.7.2-1]: '$' names are valid, only matched differently
            "a/$b",
            "$share/g/a", // "$share" has no meaning in a topic name
            " ",
            "ACCOUNTS/accounts", // §4.7.3: case-sensitive, but any case is valid
            "A\u{2A6D4}ü/日本",
        ] {
            let n = name(s);
            assert_eq!(n.as_str(), s);
            assert!(!n.is_empty());
        }
    }

    #[test]
    fn mqtt_4_7_3_1_mqtt_3_3_2_2_invalid_topic_names() {
        let table: &[(&str, TopicError)] = &[
            ("", E::Empty),           // [MQTT-4.7.3-1]
            ("+", E::WildcardInName), // [MQTT-3.3.2-2]
            ("#", E::WildcardInName), // [MQTT-3.3.2-2]
            ("a/+", E::WildcardInName),
            ("a/#", E::WildcardInName),
            ("a+b", E::WildcardInName), // not even as part of a level
            ("a/b#", E::WildcardInName),
            ("a\0b", E::NullCharacter), // [MQTT-4.7.3-2]
        ];
        for &(s, want) in table {
            assert_eq!(TopicName::new(s), Err(want), "{s:?}");
        }
    }

    #[test]
    fn valid_topic_filters() {
        for s in [
            "sport/tennis/player1/#", // §4.7.1.2 examples
            "sport/#",
            "#",
            "sport/tennis/#",
            "sport/tennis/+", // §4.7.1.3 examples
            "+",
            "+/tennis/#",
            "sport/+/player1",
            "/+",
            "+/+",
            "/",
            "a//b",
            "$SYS/#",
            "$SYS/monitor/+",
            "a/$b",
            "$share", // no '/' after it: an ordinary filter
            "$sharefoo/x",
            "$SHARE/g/a", // the prefix is case-sensitive
            "$share/g/#",
            "$share/g/a/+",
        ] {
            assert_eq!(filter(s).as_str(), s);
        }
    }

    #[test]
    fn mqtt_4_7_1_2_multi_level_wildcard_alone_and_last() {
        let table: &[(&str, TopicError)] = &[
            ("sport/tennis#", E::MisplacedMultiLevelWildcard), // §4.7.1.2: not after a '/'
            ("sport/tennis/#/ranking", E::MisplacedMultiLevelWildcard), // not last
            ("#/", E::MisplacedMultiLevelWildcard),
            ("##", E::MisplacedMultiLevelWildcard),
            ("a/#b", E::MisplacedMultiLevelWildcard),
            ("$share/g/a/#/b", E::MisplacedMultiLevelWildcard),
        ];
        for &(s, want) in table {
            assert_eq!(TopicFilter::new(s), Err(want), "{s:?}");
        }
    }

    #[test]
    fn mqtt_4_7_1_3_single_level_wildcard_whole_level() {
        let table: &[(&str, TopicError)] = &[
            ("sport+", E::MisplacedSingleLevelWildcard), // §4.7.1.3
            ("+sport", E::MisplacedSingleLevelWildcard),
            ("a/b+/c", E::MisplacedSingleLevelWildcard),
            ("++", E::MisplacedSingleLevelWildcard),
            ("$share/g/a+", E::MisplacedSingleLevelWildcard),
        ];
        for &(s, want) in table {
            assert_eq!(TopicFilter::new(s), Err(want), "{s:?}");
        }
    }

    #[test]
    fn mqtt_4_7_3_1_filters_are_at_least_one_character() {
        assert_eq!(TopicFilter::new(""), Err(E::Empty));
        assert_eq!(
            TopicFilter::from_mqtt_string(MqttString::default()),
            Err(E::Empty)
        );
    }

    #[test]
    fn mqtt_4_7_3_1_only_the_topic_alias_placeholder_is_empty() {
        assert_eq!(TopicName::new(""), Err(E::Empty));
        assert_eq!(
            TopicName::from_mqtt_string(MqttString::default()),
            Err(E::Empty)
        );
        let empty = TopicName::empty();
        assert!(empty.is_empty());
        assert_eq!(empty.as_str(), "");
        // The placeholder must be resolved to a real name before routing.
        assert!(!filter("#").matches(&empty));
        assert!(!matches("+", ""));
    }

    #[test]
    fn mqtt_4_7_3_2_null_character_rejected() {
        for s in ["\0", "a\0", "a/\0/b"] {
            assert_eq!(TopicName::new(s), Err(E::NullCharacter), "{s:?}");
            assert_eq!(TopicFilter::new(s), Err(E::NullCharacter), "{s:?}");
        }
    }

    #[test]
    fn mqtt_4_7_3_3_at_most_65535_bytes() {
        let longest = "a/".repeat(32_767) + "a";
        assert_eq!(longest.len(), 65_535);
        assert!(TopicName::new(&longest).is_ok());
        assert!(TopicFilter::new(&longest).is_ok());
        let too_long = longest + "a";
        assert_eq!(TopicName::new(&too_long), Err(E::TooLong(65_536)));
        assert_eq!(TopicFilter::new(&too_long), Err(E::TooLong(65_536)));
    }

    #[test]
    fn mqtt_1_5_4_1_ill_formed_utf8_rejected() {
        // 0xED 0xA0 0x80 encodes the surrogate U+D800.
        let err = MqttString::from_bytes(Bytes::from_static(b"a/\xed\xa0\x80")).map_err(E::from);
        assert_eq!(err, Err(E::InvalidUtf8));
    }

    #[test]
    fn from_mqtt_string_does_not_copy() {
        let bytes = Bytes::from_static(b"sport/tennis");
        let s = MqttString::from_bytes(bytes.clone()).unwrap_or_else(|e| panic!("{e}"));
        let topic = TopicName::from_mqtt_string(s.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(topic.into_mqtt_string().as_bytes().as_ptr(), bytes.as_ptr());
        let sub = TopicFilter::from_mqtt_string(s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sub.as_mqtt_string().as_bytes().as_ptr(), bytes.as_ptr());
    }

    #[test]
    fn conversions_and_formatting() {
        assert_eq!("a/b".parse::<TopicName>(), Ok(name("a/b")));
        assert_eq!(TopicName::try_from("a/+"), Err(E::WildcardInName));
        assert_eq!(
            TopicFilter::try_from(String::from("a/+")),
            Ok(filter("a/+"))
        );
        assert_eq!(name("a/b").to_string(), "a/b");
        assert_eq!(format!("{:?}", name("a/b")), r#"TopicName("a/b")"#);
        assert_eq!(format!("{:?}", filter("a/#")), r#"TopicFilter("a/#")"#);
        assert_eq!(filter("a/#"), "a/#");
        assert_eq!(MqttString::from(filter("a/#")), "a/#");
    }

    #[test]
    fn mqtt_4_7_2_1_system_topics_start_with_dollar() {
        for (s, system) in [
            ("$SYS/broker", true),
            ("$", true),
            ("a/$b", false),
            ("a", false),
        ] {
            assert_eq!(name(s).is_system(), system, "{s:?}");
        }
    }

    #[test]
    fn has_wildcards_looks_at_the_matching_filter() {
        for (s, wild) in [
            ("a/b", false),
            ("a/+", true),
            ("#", true),
            ("$share/g/a/b", false),
            ("$share/g/+", true),
        ] {
            assert_eq!(filter(s).has_wildcards(), wild, "{s:?}");
        }
    }

    // ---- Shared subscriptions ----

    #[test]
    fn mqtt_4_8_2_1_mqtt_4_8_2_2_shared_subscription_parsing() {
        // (filter, Ok(Some((ShareName, filter))) for a shared one, Ok(None) for an ordinary one)
        type Parsed = Result<Option<(&'static str, &'static str)>, TopicError>;
        let table: &[(&str, Parsed)] = &[
            ("$share/g/a/+", Ok(Some(("g", "a/+")))),
            ("$share/group/#", Ok(Some(("group", "#")))),
            ("$share/g//", Ok(Some(("g", "/")))),
            ("$share/g/$share/h/x", Ok(Some(("g", "$share/h/x")))),
            ("$share/g", Err(E::MissingSharedFilter)), // [MQTT-4.8.2-2]: no '/' after it
            ("$share/g/", Err(E::MissingSharedFilter)), // [MQTT-4.8.2-2]: no filter after '/'
            ("$share/", Err(E::InvalidShareName)),     // [MQTT-4.8.2-1]
            ("$share//a", Err(E::InvalidShareName)),   // [MQTT-4.8.2-1]
            ("$share/g+/a", Err(E::InvalidShareName)), // [MQTT-4.8.2-2]
            ("$share/#/a", Err(E::InvalidShareName)),  // [MQTT-4.8.2-2]
            ("$share/+", Err(E::InvalidShareName)),
            ("$sharefoo/x", Ok(None)),
            ("$share", Ok(None)),
            ("a/$share/g/b", Ok(None)),
        ];
        for &(s, want) in table {
            let parsed = TopicFilter::new(s);
            let got = match &parsed {
                Ok(f) => Ok(f.shared().map(|sh| (sh.group, sh.filter))),
                Err(e) => Err(*e),
            };
            assert_eq!(got, want, "{s:?}");
        }
    }

    #[test]
    fn matching_filter_strips_the_share_prefix() {
        assert_eq!(filter("$share/g/a/+").matching_filter(), "a/+");
        assert_eq!(filter("a/+").matching_filter(), "a/+");
        assert_eq!(filter("$sharefoo/x").matching_filter(), "$sharefoo/x");
    }

    #[test]
    fn mqtt_4_7_2_1_shared_filters_match_with_their_own_filter() {
        check_matching(&[
            ("$share/g/a/+", "a/b", true),
            ("$share/g/a/+", "$share/g/a/b", false),
            ("$share/g/#", "anything/at/all", true),
            ("$share/g/#", "$SYS/broker", false), // [MQTT-4.7.2-1] applies to "#"
            ("$share/g/$SYS/#", "$SYS/broker", true),
        ]);
    }

    // ---- Matching ----

    #[test]
    fn mqtt_4_7_1_2_multi_level_wildcard_matching() {
        check_matching(&[
            // §4.7.1.2 examples
            ("sport/tennis/player1/#", "sport/tennis/player1", true),
            (
                "sport/tennis/player1/#",
                "sport/tennis/player1/ranking",
                true,
            ),
            (
                "sport/tennis/player1/#",
                "sport/tennis/player1/score/wimbledon",
                true,
            ),
            ("sport/#", "sport", true), // '#' includes the parent level
            ("sport/#", "sport/", true),
            ("sport/#", "sport/tennis/player1", true),
            ("sport/#", "sports", false),
            ("sport/tennis/#", "sport/tennis", true),
            ("sport/tennis/#", "sport", false),
            ("#", "sport/tennis/player1", true),
            ("#", "/", true),
            ("#", "/finance", true),
            ("+/#", "a", true),
            ("/#", "/", true),
            ("/#", "a", false),
        ]);
    }

    #[test]
    fn mqtt_4_7_1_3_single_level_wildcard_matching() {
        check_matching(&[
            // §4.7.1.3 examples
            ("sport/tennis/+", "sport/tennis/player1", true),
            ("sport/tennis/+", "sport/tennis/player2", true),
            ("sport/tennis/+", "sport/tennis/player1/ranking", false),
            ("sport/+", "sport", false),
            ("sport/+", "sport/", true), // '+' matches an empty level
            ("+", "sport", true),
            ("+/tennis/#", "sport/tennis/player1", true),
            ("sport/+/player1", "sport/tennis/player1", true),
            ("/finance", "/finance", true),
            ("+/+", "/finance", true),
            ("/+", "/finance", true),
            ("+", "/finance", false),
            ("+/+", "a/", true),
            ("+/+", "/", true),
            ("+", "/", false),
            ("a/+/b", "a//b", true),
            ("a/+/b", "a/b", false),
        ]);
    }

    #[test]
    fn mqtt_4_7_2_1_wildcards_do_not_match_dollar_topics() {
        check_matching(&[
            // §4.7.2 examples
            ("#", "$SYS/broker/uptime", false),
            ("+/monitor/Clients", "$SYS/monitor/Clients", false),
            ("$SYS/#", "$SYS/broker/uptime", true),
            ("$SYS/#", "$SYS", true),
            ("$SYS/monitor/+", "$SYS/monitor/Clients", true),
            ("+", "$", false),
            ("#", "$", false),
            ("$", "$", true),
            // Only a '$' at the very start of the topic counts.
            ("#", "a/$b", true),
            ("a/+", "a/$b", true),
            ("+/$b", "a/$b", true),
        ]);
    }

    #[test]
    fn literal_levels_match_exactly() {
        check_matching(&[
            ("ACCOUNTS", "Accounts", false), // §4.7.3: case-sensitive
            ("Accounts payable", "Accounts payable", true),
            ("/", "/", true),
            ("/", "//", false),
            ("a//b", "a//b", true),
            ("a/b", "a//b", false),
            ("a/b", "a/b/", false),
            ("a/b/", "a/b", false),
            ("a/bc", "a/b", false),
            ("a/b", "a/bc", false),
            ("a/b", "ab", false),
            ("日本/+", "日本/東京", true),
        ]);
    }

    // ---- Properties ----

    /// `matches` written the obvious way, with allocation and recursion, as an oracle.
    fn reference_matches(filter: &str, topic: &str) -> bool {
        fn levels_match(filter: &[&str], topic: &[&str]) -> bool {
            match (filter.split_first(), topic.split_first()) {
                (Some((&"#", _)), _) => true,
                (Some((&f, fs)), Some((&t, ts))) => (f == "+" || f == t) && levels_match(fs, ts),
                (None, None) => true,
                _ => false,
            }
        }
        let wildcard_first = filter.starts_with(['+', '#']);
        if topic.is_empty() || (topic.starts_with('$') && wildcard_first) {
            return false;
        }
        let filter: Vec<&str> = filter.split('/').collect();
        let topic: Vec<&str> = topic.split('/').collect();
        levels_match(&filter, &topic)
    }

    fn topic_levels() -> impl Strategy<Value = Vec<String>> {
        prop::collection::vec("[ab$é ]{0,3}", 1..6)
    }

    fn filter_levels() -> impl Strategy<Value = (Vec<String>, bool)> {
        let level = prop_oneof!["[ab$]{0,2}", Just("+".to_string())];
        (prop::collection::vec(level, 1..6), any::<bool>())
    }

    proptest! {
        /// Replacing levels of a name with '+', or cutting it short with '#', gives a filter that
        /// matches it, unless the name starts with '$' and the filter with a wildcard.
        #[test]
        fn mqtt_4_7_1_2_mqtt_4_7_1_3_mqtt_4_7_2_1_generalised_name_matches(
            levels in topic_levels(),
            plus in prop::collection::vec(any::<bool>(), 6),
            cut in prop::option::of(0usize..7),
        ) {
            let topic = levels.join("/");
            prop_assume!(!topic.is_empty());
            let mut built: Vec<&str> = Vec::new();
            for (i, level) in levels.iter().enumerate() {
                if cut == Some(i) {
                    break;
                }
                built.push(if plus.get(i) == Some(&true) { "+" } else { level });
            }
            if cut.is_some_and(|c| c <= levels.len()) {
                built.push("#");
            }
            let sub = built.join("/");
            let sub = TopicFilter::new(&sub)
                .map_err(|e| TestCaseError::fail(format!("{sub:?}: {e}")))?;
            let wildcard_first = matches!(built.first(), Some(&"+" | &"#"));
            let want = !(topic.starts_with('$') && wildcard_first);
            prop_assert_eq!(sub.matches(&name(&topic)), want, "{} {}", sub, topic);
        }

        /// On valid inputs, the single-pass matcher agrees with the level-by-level definition.
        #[test]
        fn matches_agrees_with_reference(
            (levels, hash) in filter_levels(),
            topic in topic_levels(),
        ) {
            let mut sub = levels.join("/");
            if hash {
                sub.push_str("/#");
            }
            let topic = topic.join("/");
            prop_assume!(TopicFilter::new(&sub).is_ok() && TopicName::new(&topic).is_ok());
            prop_assert_eq!(matches(&sub, &topic), reference_matches(&sub, &topic), "{} {}", sub, topic);
        }

        /// Neither validation nor matching panics, whatever the input.
        #[test]
        fn never_panics(sub in "[ab/+#$\0é]{0,10}|.*", topic in "[ab/+#$\0é]{0,10}|.*") {
            let _ = TopicFilter::new(&sub);
            let _ = TopicName::new(&topic);
            let _ = matches(&sub, &topic);
        }
    }
}
