//! The JSON of `%j` and `%J`: a small tree that prints byte for byte as cJSON 1.7 prints it
//! (mosquitto_sub builds those lines with cJSON), and a parser for `%J` payloads.
//!
//! cJSON's habits kept here: objects keep their keys in insertion order and may repeat a key;
//! numbers are doubles printed with `%1.15g`, or `%1.17g` when 15 digits do not read back
//! as the same number; infinities print as `null`; strings escape `"`, `\`, `\b \f \n \r \t`
//! and other control characters as `\u00xx`, and pass everything else through unescaped;
//! `--pretty` output indents with tabs and puts a tab after each `:`.
//!
//! One difference, on purpose: cJSON keeps strings NUL-terminated, so a U+0000 cuts a string
//! short; here it prints as `\u0000` and nothing is lost.

use std::borrow::Cow;

/// cJSON's `CJSON_NESTING_LIMIT`: deeper documents are rejected, and recursion stays bounded.
const NESTING_LIMIT: usize = 1000;

/// A JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json<'a> {
    Null,
    Bool(bool),
    Number(f64),
    String(Cow<'a, str>),
    /// An array of byte values (0 to 255), without building one node per byte.
    Bytes(&'a [u8]),
    Array(Vec<Json<'a>>),
    /// Members in order; keys may repeat, as in cJSON.
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

/// Appends `value` to `out`, on one line, or indented like `cJSON_Print` when `pretty`.
pub(crate) fn print(value: &Json, pretty: bool, out: &mut Vec<u8>) {
    Printer {
        pretty,
        depth: 0,
        out,
    }
    .value(value);
}

struct Printer<'o> {
    pretty: bool,
    depth: usize,
    out: &'o mut Vec<u8>,
}

impl Printer<'_> {
    fn value(&mut self, value: &Json) {
        match value {
            Json::Null => self.out.extend_from_slice(b"null"),
            Json::Bool(true) => self.out.extend_from_slice(b"true"),
            Json::Bool(false) => self.out.extend_from_slice(b"false"),
            Json::Number(n) => number(*n, self.out),
            Json::String(s) => string(s, self.out),
            Json::Bytes(bytes) => self.bytes(bytes),
            Json::Array(items) => self.array(items),
            Json::Object(members) => self.object(members),
        }
    }

    fn array(&mut self, items: &[Json]) {
        self.out.push(b'[');
        self.depth += 1;
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.separator();
            }
            self.value(item);
        }
        self.depth -= 1;
        self.out.push(b']');
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.out.push(b'[');
        for (i, byte) in bytes.iter().enumerate() {
            if i > 0 {
                self.separator();
            }
            self.out.extend_from_slice(byte.to_string().as_bytes());
        }
        self.out.push(b']');
    }

    /// Between array items: `,`, and a space when pretty.
    fn separator(&mut self) {
        self.out.push(b',');
        if self.pretty {
            self.out.push(b' ');
        }
    }

    fn object(&mut self, members: &[(Cow<str>, Json)]) {
        self.out.push(b'{');
        self.depth += 1;
        if self.pretty {
            self.out.push(b'\n');
        }
        for (i, (key, value)) in members.iter().enumerate() {
            self.indent(self.depth);
            string(key, self.out);
            self.out.push(b':');
            if self.pretty {
                self.out.push(b'\t');
            }
            self.value(value);
            if i + 1 < members.len() {
                self.out.push(b',');
            }
            if self.pretty {
                self.out.push(b'\n');
            }
        }
        self.indent(self.depth - 1);
        self.depth -= 1;
        self.out.push(b'}');
    }

    fn indent(&mut self, tabs: usize) {
        if self.pretty {
            self.out.resize(self.out.len() + tabs, b'\t');
        }
    }
}

/// A string in quotes, escaped the way cJSON escapes it (plus U+0000 as `\u0000`).
pub(crate) fn string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x0c => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// A number as cJSON prints it: `%1.15g` unless that does not read back as (nearly) the
/// same double, then `%1.17g`; not-a-number and infinities as `null`.
pub(crate) fn number(n: f64, out: &mut Vec<u8>) {
    if !n.is_finite() {
        out.extend_from_slice(b"null");
        return;
    }
    let short = format_g(n, 15);
    let round_trips = short.parse::<f64>().is_ok_and(|back| nearly_equal(back, n));
    let text = if round_trips { short } else { format_g(n, 17) };
    out.extend_from_slice(text.as_bytes());
}

/// cJSON's `compare_double`: equal within one epsilon of the larger magnitude.
fn nearly_equal(a: f64, b: f64) -> bool {
    let max = a.abs().max(b.abs());
    (a - b).abs() <= max * f64::EPSILON
}

/// C's `printf("%.{precision}g", n)` for a finite `n` and `precision >= 1`.
fn format_g(n: f64, precision: usize) -> String {
    let sci = format!("{:.*e}", precision - 1, n);
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    // The precision is at most 17, far inside i32.
    let p = precision as i32;
    if exponent < -4 || exponent >= p {
        let sign = if exponent < 0 { '-' } else { '+' };
        let mantissa = strip_fraction_zeros(mantissa);
        format!("{mantissa}e{sign}{:02}", exponent.unsigned_abs())
    } else {
        let decimals = (p - 1 - exponent).max(0) as usize;
        strip_fraction_zeros(&format!("{n:.decimals$}")).to_owned()
    }
}

/// `1.2500` -> `1.25`, `3.000` -> `3`; numbers without a fraction stay as they are.
fn strip_fraction_zeros(s: &str) -> &str {
    if !s.contains('.') {
        return s;
    }
    s.trim_end_matches('0').trim_end_matches('.')
}

/// Parses a whole document as `%J` needs it, or `None` when it is not JSON.
///
/// The grammar is RFC 8259's, with cJSON's leniencies that cost nothing to keep: a leading
/// UTF-8 byte order mark, any control character as white space, and raw control characters
/// inside strings. The document must be UTF-8 (RFC 8259 §8.1); cJSON would pass invalid
/// bytes through into its output.
pub(crate) fn parse(input: &[u8]) -> Option<Json<'_>> {
    let text = std::str::from_utf8(input).ok()?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parser = Parser { text, pos: 0 };
    parser.skip_space();
    let value = parser.value(0)?;
    parser.skip_space();
    (parser.pos == text.len()).then_some(value)
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        if found {
            self.pos += 1;
        }
        found
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(1..=b' ')) {
            self.pos += 1;
        }
    }

    /// A value inside `depth` arrays and objects.
    fn value(&mut self, depth: usize) -> Option<Json<'a>> {
        match self.peek()? {
            b'{' | b'[' if depth >= NESTING_LIMIT => None,
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1),
            b'"' => self.string().map(Json::String),
            b'-' | b'0'..=b'9' => self.number(),
            _ => self.literal(),
        }
    }

    fn literal(&mut self) -> Option<Json<'a>> {
        let rest = &self.text[self.pos..];
        let (value, len) = if rest.starts_with("true") {
            (Json::Bool(true), 4)
        } else if rest.starts_with("false") {
            (Json::Bool(false), 5)
        } else if rest.starts_with("null") {
            (Json::Null, 4)
        } else {
            return None;
        };
        self.pos += len;
        Some(value)
    }

    fn array(&mut self, depth: usize) -> Option<Json<'a>> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_space();
        if self.eat(b']') {
            return Some(Json::Array(items));
        }
        loop {
            self.skip_space();
            items.push(self.value(depth)?);
            self.skip_space();
            if self.eat(b']') {
                return Some(Json::Array(items));
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }

    fn object(&mut self, depth: usize) -> Option<Json<'a>> {
        self.pos += 1;
        let mut members = Vec::new();
        self.skip_space();
        if self.eat(b'}') {
            return Some(Json::Object(members));
        }
        loop {
            self.skip_space();
            if self.peek() != Some(b'"') {
                return None;
            }
            let key = self.string()?;
            self.skip_space();
            if !self.eat(b':') {
                return None;
            }
            self.skip_space();
            members.push((key, self.value(depth)?));
            self.skip_space();
            if self.eat(b'}') {
                return Some(Json::Object(members));
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }

    /// RFC 8259 §6: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Option<Json<'a>> {
        let start = self.pos;
        self.eat(b'-');
        if !self.eat(b'0') && self.digits() == 0 {
            return None;
        }
        if self.eat(b'.') && self.digits() == 0 {
            return None;
        }
        if self.eat(b'e') || self.eat(b'E') {
            let _ = self.eat(b'+') || self.eat(b'-');
            if self.digits() == 0 {
                return None;
            }
        }
        self.text[start..self.pos].parse().ok().map(Json::Number)
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// A string from its opening quote; borrowed when it has no escapes.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        self.pos += 1;
        let start = self.pos;
        loop {
            match self.peek()? {
                b'"' => {
                    let s = &self.text[start..self.pos];
                    self.pos += 1;
                    return Some(Cow::Borrowed(s));
                }
                b'\\' => break,
                _ => self.pos += 1,
            }
        }
        let mut owned = self.text[start..self.pos].to_owned();
        self.string_with_escapes(&mut owned)?;
        Some(Cow::Owned(owned))
    }

    fn string_with_escapes(&mut self, s: &mut String) -> Option<()> {
        loop {
            let rest = self.text.get(self.pos..)?;
            let c = rest.chars().next()?;
            self.pos += c.len_utf8();
            match c {
                '"' => return Some(()),
                '\\' => s.push(self.escape()?),
                c => s.push(c),
            }
        }
    }

    fn escape(&mut self) -> Option<char> {
        let c = match self.peek()? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                self.pos += 1;
                return self.unicode_escape();
            }
            _ => return None,
        };
        self.pos += 1;
        Some(c)
    }

    /// After `\u`: four hex digits, or a surrogate pair; a lone surrogate is an error.
    fn unicode_escape(&mut self) -> Option<char> {
        let first = self.hex4()?;
        if (0xdc00..0xe000).contains(&first) {
            return None;
        }
        if !(0xd800..0xdc00).contains(&first) {
            return char::from_u32(first);
        }
        if !(self.eat(b'\\') && self.eat(b'u')) {
            return None;
        }
        let second = self.hex4()?;
        if !(0xdc00..0xe000).contains(&second) {
            return None;
        }
        char::from_u32(0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00))
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.text.get(self.pos..self.pos + 4)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.pos += 4;
        u32::from_str_radix(digits, 16).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reprint(input: &str, pretty: bool) -> String {
        let value = parse(input.as_bytes()).expect("valid JSON");
        let mut out = Vec::new();
        print(&value, pretty, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn num(n: f64) -> String {
        let mut out = Vec::new();
        number(n, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn numbers_print_like_cjson() {
        // Each expected text is what mosquitto_sub 2.0.11 (cJSON 1.7.15) printed for `%J`.
        let cases = [
            (1.0, "1"),
            (-0.0, "-0"),
            (1.5e-7, "1.5e-07"),
            (1e5, "100000"),
            (1e10, "10000000000"),
            (123456789012345.0, "123456789012345"),
            (1234567890123456.0, "1234567890123456"),
            (12345678901234567890.0, "1.2345678901234567e+19"),
            (0.30000000000000004, "0.3"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (1e15, "1e+15"),
            (1e16, "1e+16"),
            (2.5, "2.5"),
            (-12.0, "-12"),
            (5e-324, "4.94065645841247e-324"),
            (0.1, "0.1"),
            (f64::INFINITY, "null"),
            (f64::NAN, "null"),
        ];
        for (n, text) in cases {
            assert_eq!(num(n), text, "{n:e}");
        }
    }

    #[test]
    fn format_g_switches_to_exponent_form_at_the_precision() {
        assert_eq!(format_g(999999999999999.0, 15), "999999999999999");
        assert_eq!(format_g(9999999999999999.0, 15), "1e+16");
        assert_eq!(format_g(0.00012345, 15), "0.00012345");
        assert_eq!(format_g(1.5e300, 15), "1.5e+300");
        assert_eq!(format_g(0.0, 15), "0");
    }

    #[test]
    fn reprints_compactly_keeping_order_and_repeated_keys() {
        let input = r#" {"b": 1.0, "a": [1, 2, {}], "b": "x\/y", "e": [], "t": true, "f": false, "n": null} "#;
        assert_eq!(
            reprint(input, false),
            r#"{"b":1,"a":[1,2,{}],"b":"x/y","e":[],"t":true,"f":false,"n":null}"#
        );
    }

    #[test]
    fn reprints_pretty_with_tabs_like_cjson_print() {
        // mosquitto_sub 2.0.11 --pretty printed `[[],[1,[2]],{}]` as the payload of `%J` at
        // depth 1 this way; at depth 0 the object closes one tab further left.
        assert_eq!(reprint("[[],[1,[2]],{}]", true), "[[], [1, [2]], {\n\t}]");
        assert_eq!(
            reprint(r#"{"a":1,"b":{"c":[]}}"#, true),
            "{\n\t\"a\":\t1,\n\t\"b\":\t{\n\t\t\"c\":\t[]\n\t}\n}"
        );
        assert_eq!(reprint("{}", true), "{\n}");
    }

    #[test]
    fn escapes_strings_like_cjson() {
        let mut out = Vec::new();
        string("q\"b\\/\u{7f}\n\t\u{8}\u{c}\r\u{1}\u{1f}\u{0}é", &mut out);
        assert_eq!(
            out,
            "\"q\\\"b\\\\/\u{7f}\\n\\t\\b\\f\\r\\u0001\\u001f\\u0000é\"".as_bytes()
        );
    }

    #[test]
    fn unescapes_strings_and_surrogate_pairs() {
        assert_eq!(reprint(r#""\ud83d\ude00\u00e9\n""#, false), "\"😀é\\n\"");
        assert_eq!(reprint(r#""a\u0000b""#, false), r#""a\u0000b""#);
        // Raw control characters inside strings: cJSON takes them, and so does this parser.
        assert_eq!(reprint("\"x\ty\"", false), r#""x\ty""#);
    }

    #[test]
    fn accepts_a_byte_order_mark_and_control_white_space() {
        assert_eq!(reprint("\u{feff}[1]", false), "[1]");
        assert_eq!(reprint("\u{1}[1]\u{1f}", false), "[1]");
    }

    #[test]
    fn rejects_what_is_not_json() {
        for bad in [
            "",
            " ",
            "nojson",
            "[1,]",
            "{\"a\"}",
            "{\"a\":1,}",
            "[01]",
            "[+1]",
            "[1.]",
            "[-.5]",
            "[.5]",
            "1e",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\ud800\\u0041\"",
            "\"\\x\"",
            "\"open",
            "[1]\0",
            "[1] 2",
            "tru",
            "{1:2}",
            "\"\\u12\"",
        ] {
            assert_eq!(parse(bad.as_bytes()), None, "{bad:?}");
        }
        assert_eq!(parse(b"[\"\xff\"]"), None, "not UTF-8");
    }

    #[test]
    fn nesting_is_limited_like_cjson() {
        let ok = "[".repeat(1000) + &"]".repeat(1000);
        assert!(parse(ok.as_bytes()).is_some());
        let deep = "[".repeat(1001) + &"]".repeat(1001);
        assert_eq!(parse(deep.as_bytes()), None);
    }

    #[test]
    fn byte_arrays_print_as_numbers() {
        let mut out = Vec::new();
        print(&Json::Bytes(&[0, 255, 7]), false, &mut out);
        assert_eq!(out, b"[0,255,7]");
        out.clear();
        print(&Json::Bytes(&[0, 255]), true, &mut out);
        assert_eq!(out, b"[0, 255]");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn parse_never_panics(input in proptest::collection::vec(any::<u8>(), 0..64)) {
                let _ = parse(&input);
            }

            #[test]
            fn parse_never_panics_on_json_like_text(input in "[\\[\\]{}\",:0-9eE.+\\-\\\\u tfrnl\u{e9}]{0,40}") {
                let _ = parse(input.as_bytes());
            }

            #[test]
            fn printed_strings_are_json(s in "\\PC*|[\u{0}-\u{40}]*") {
                let mut out = Vec::new();
                string(&s, &mut out);
                let back: String = serde_json::from_slice(&out).unwrap();
                prop_assert_eq!(back, s);
            }

            #[test]
            fn printed_numbers_read_back_nearly_equal(n in any::<f64>()) {
                prop_assume!(n.is_finite());
                let mut out = Vec::new();
                number(n, &mut out);
                let back: f64 = std::str::from_utf8(&out).unwrap().parse().unwrap();
                prop_assert!(nearly_equal(back, n), "{} printed as {}", n, back);
            }

            #[test]
            fn json_documents_round_trip(v in json_value()) {
                let text = v.to_string();
                let parsed = parse(text.as_bytes()).unwrap();
                let mut out = Vec::new();
                print(&parsed, false, &mut out);
                let back: serde_json::Value = serde_json::from_slice(&out).unwrap();
                prop_assert_eq!(back, v);
            }
        }

        /// JSON values whose numbers are small integers (which print exactly).
        fn json_value() -> impl Strategy<Value = serde_json::Value> {
            use serde_json::Value;
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                (-1000i64..1000).prop_map(Value::from),
                "\\PC{0,8}".prop_map(Value::String),
            ];
            leaf.prop_recursive(4, 32, 4, |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                    proptest::collection::btree_map("[a-z]{0,3}", inner, 0..4)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }
    }
}
