//! mosquitto_sub 2.0's `-F` format language: parsed once into pieces, rendered per message.
//!
//! A format is literal text with three kinds of piece:
//!
//! - `%[-][0][width][.precision]X`: a message field. `%%` `%t` topic, `%p` payload, `%l`
//!   payload length, `%m` packet id, `%q` QoS, `%r` retain, `%x`/`%X` payload in hex, the 5.0
//!   properties `%A` topic alias, `%C` content type, `%D` correlation data, `%E` message expiry
//!   interval, `%F` payload format indicator, `%P` user properties (`key:value`, space
//!   separated), `%R` response topic, `%S` subscription identifier, and `%I` ISO 8601 time,
//!   `%U` Unix time with nanoseconds, `%j` the message as JSON, `%J` the same with a JSON
//!   payload embedded. Width pads `%A %C %E %F %I %l %m %p %R %S %t %x %X`; `-` pads on the
//!   right; `0` pads with zeros `%A %E %F %l %m %p %S %x %X`; precision cuts `%C %I %R %t`.
//!   Flags on other fields are accepted and ignored, as mosquitto does.
//! - `@X`: the receive time through strftime's `%X` (C locale), `@N` nanoseconds, `@@` an `@`.
//! - `\\ \0 \a \e \n \r \t \v`: escapes.
//!
//! Output is byte for byte mosquitto_sub 2.0.11's, including its quirks: a width on `%p`
//! also truncates the payload to that many bytes; an absent integer property prints `width`
//! pad characters (zeros with `0`, even with `-`), an absent content type `width` spaces, an
//! absent response topic nothing; `%m` is 0 for QoS 0; `%S` shows the first identifier;
//! `%-p`, `%-x` and `%-X` without a width are followed by as many spaces as the payload has
//! bytes.
//!
//! Deliberate differences, where mosquitto loses data or its output is unusable:
//! - Parsing rejects unknown `@` codes (glibc would print them literally) and widths or
//!   precisions over 65535 (mosquitto overflows an `int`).
//! - `%x`/`%X` with a width print `min(len, width / 2)` bytes; mosquitto halves the byte count
//!   of a payload shorter than the width too (`%4x` of `ab` gives `  61`, here `6162`).
//! - `%E` prints expiry intervals over 2^31 - 1 unsigned (mosquitto prints them negative).
//! - `%j`'s `tst` is `2026-11-23T12:00:00.123456+0100`, as mosquitto 2.0.12 and later print it;
//!   2.0.11 put a stray `Z` before the offset.
//! - `%j` prints a payload (or correlation data) that is not UTF-8 as an array of byte values,
//!   as mosquitto 2.1 does for binary payloads, and a U+0000 as `\u0000`; mosquitto 2.0 cut the
//!   string at the first NUL and let invalid bytes through into its "JSON" (issue #2213).
//!   Valid UTF-8 without NUL prints exactly as in 2.0.
//! - `%J` needs the payload to be RFC 8259 JSON in UTF-8 (see the `cjson` module for the
//!   little that cJSON accepts besides).
//! - The 5.0 properties of `%j` come in one fixed order: subscription identifiers, payload
//!   format indicator, content type, response topic, correlation data, topic alias, user
//!   properties, message expiry interval. mosquitto follows the order on the wire, which the
//!   `Publish` model does not keep; a mosquitto broker sends subscription identifiers first,
//!   then the publisher's order, the expiry interval last.
//! - `@Z` prints `UTC` for a zero offset and the numeric offset (`+0100`) otherwise: zone
//!   abbreviations such as `CET` are not available without the C library.

use std::borrow::Cow;
use std::fmt;
use std::io::Write;
use std::iter::Peekable;
use std::str::CharIndices;

use chrono::{DateTime, FixedOffset, Local};

use super::cjson::{self, Json};
use super::Received;
use crate::protocol::PayloadFormat;

/// The largest width or precision a field may have.
pub const MAX_WIDTH: usize = 65535;

/// A parsed `-F` format: parse once with [`Format::parse`], then [`Format::render`] each
/// message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    pieces: Vec<Piece>,
    /// Whether any piece shows the receive time (so that it is converted once, or never).
    needs_time: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Text, escapes, `%%` and `@@`, merged.
    Literal(Vec<u8>),
    Field(Field, Spec),
    Time(TimeCode),
}

/// Flags, width and precision of a `%` field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Spec {
    /// `-`: pad on the right.
    left: bool,
    /// `0`: pad with zeros.
    zero: bool,
    width: usize,
    precision: Option<usize>,
}

impl Spec {
    fn pad_byte(self) -> u8 {
        if self.zero {
            b'0'
        } else {
            b' '
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Topic,
    Payload,
    Length,
    Mid,
    Qos,
    Retain,
    HexLower,
    HexUpper,
    TopicAlias,
    ContentType,
    CorrelationData,
    ExpiryInterval,
    PayloadFormat,
    UserProperties,
    ResponseTopic,
    SubscriptionId,
    Iso8601,
    UnixTime,
    Json,
    JsonPayload,
}

impl Field {
    fn from_char(c: char) -> Option<Field> {
        Some(match c {
            't' => Field::Topic,
            'p' => Field::Payload,
            'l' => Field::Length,
            'm' => Field::Mid,
            'q' => Field::Qos,
            'r' => Field::Retain,
            'x' => Field::HexLower,
            'X' => Field::HexUpper,
            'A' => Field::TopicAlias,
            'C' => Field::ContentType,
            'D' => Field::CorrelationData,
            'E' => Field::ExpiryInterval,
            'F' => Field::PayloadFormat,
            'P' => Field::UserProperties,
            'R' => Field::ResponseTopic,
            'S' => Field::SubscriptionId,
            'I' => Field::Iso8601,
            'U' => Field::UnixTime,
            'j' => Field::Json,
            'J' => Field::JsonPayload,
            _ => return None,
        })
    }

    fn needs_time(self) -> bool {
        matches!(
            self,
            Field::Iso8601 | Field::UnixTime | Field::Json | Field::JsonPayload
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeCode {
    /// A strftime conversion that chrono prints as glibc does in the C locale.
    Strftime(&'static str),
    /// `@N`: nanoseconds within the second, nine digits.
    Nanos,
    /// `@Z`: the zone.
    Zone,
}

impl TimeCode {
    /// glibc's single-letter conversions; `E` and `O` are modifiers, not conversions.
    fn from_char(c: char) -> Option<TimeCode> {
        const CODES: &[(char, &str)] = &[
            ('a', "%a"),
            ('A', "%A"),
            ('b', "%b"),
            ('B', "%B"),
            ('c', "%c"),
            ('C', "%C"),
            ('d', "%d"),
            ('D', "%D"),
            ('e', "%e"),
            ('F', "%F"),
            ('g', "%g"),
            ('G', "%G"),
            ('h', "%h"),
            ('H', "%H"),
            ('I', "%I"),
            ('j', "%j"),
            ('k', "%k"),
            ('l', "%l"),
            ('m', "%m"),
            ('M', "%M"),
            ('n', "%n"),
            ('p', "%p"),
            ('P', "%P"),
            ('r', "%r"),
            ('R', "%R"),
            ('s', "%s"),
            ('S', "%S"),
            ('t', "%t"),
            ('T', "%T"),
            ('u', "%u"),
            ('U', "%U"),
            ('V', "%V"),
            ('w', "%w"),
            ('W', "%W"),
            ('x', "%x"),
            ('X', "%X"),
            ('y', "%y"),
            ('Y', "%Y"),
            ('z', "%z"),
            ('%', "%%"),
        ];
        match c {
            'N' => Some(TimeCode::Nanos),
            'Z' => Some(TimeCode::Zone),
            _ => CODES
                .iter()
                .find(|(code, _)| *code == c)
                .map(|(_, spec)| TimeCode::Strftime(spec)),
        }
    }
}

/// Why a format was refused; it names the piece and where it starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} '{piece}' at character {position} of the format")]
pub struct FormatError {
    /// What is wrong.
    pub kind: FormatErrorKind,
    /// The offending piece as written, from its `%`, `@` or `\`.
    pub piece: String,
    /// Where the piece starts, counting characters from 1.
    pub position: usize,
}

/// The kinds of [`FormatError`], worded as mosquitto words them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatErrorKind {
    /// `%` followed by a letter that is no field.
    InvalidField,
    /// The format ends inside a `%` field.
    IncompleteField,
    /// `\` followed by a character that is no escape.
    InvalidEscape,
    /// The format ends with a lone `\`.
    IncompleteEscape,
    /// `@` followed by a character that is no strftime conversion.
    InvalidTime,
    /// The format ends with a lone `@`.
    IncompleteTime,
    /// A width or precision over [`MAX_WIDTH`].
    TooWide,
}

impl fmt::Display for FormatErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FormatErrorKind::InvalidField => "invalid format specifier",
            FormatErrorKind::IncompleteField => "incomplete format specifier",
            FormatErrorKind::InvalidEscape => "invalid escape specifier",
            FormatErrorKind::IncompleteEscape => "incomplete escape specifier",
            FormatErrorKind::InvalidTime => "invalid time specifier",
            FormatErrorKind::IncompleteTime => "incomplete time specifier",
            FormatErrorKind::TooWide => "width or precision over 65535 in",
        })
    }
}

/// A piece of the format that could not be rendered for one message; the rest of the line
/// was rendered all the same.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// `%J` and a payload that is not JSON; mosquitto_sub skips the piece in the same way.
    #[error("message payload is not valid JSON on topic {topic}")]
    NotJson {
        /// The topic of the message.
        topic: String,
    },
}

impl Format {
    /// Parses `format`, refusing what mosquitto's `check_format()` refuses and also unknown
    /// `@` codes and widths over [`MAX_WIDTH`].
    pub fn parse(format: &str) -> Result<Format, FormatError> {
        let mut parser = Parser {
            source: format,
            chars: format.char_indices().peekable(),
            position: 0,
            pieces: Vec::new(),
            literal: Vec::new(),
        };
        parser.run()?;
        let pieces = parser.pieces;
        let needs_time = pieces.iter().any(|piece| match piece {
            Piece::Time(_) => true,
            Piece::Field(field, _) => field.needs_time(),
            Piece::Literal(_) => false,
        });
        Ok(Format { pieces, needs_time })
    }

    /// Appends the bytes for `msg`, without a trailing newline; `pretty` indents `%j` and
    /// `%J` like mosquitto_sub's `--pretty`. Times are in the local time zone.
    ///
    /// On error (`%J` and a payload that is not JSON) that piece is left out and the rest
    /// is in `out`, as with mosquitto_sub; the caller reports the error on stderr.
    pub fn render(
        &self,
        msg: &Received,
        pretty: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), RenderError> {
        let time = self
            .needs_time
            .then(|| DateTime::<Local>::from(msg.at).fixed_offset());
        self.render_at(msg, time.as_ref(), pretty, out)
    }

    /// [`Format::render`] with the receive time already in its zone.
    fn render_at(
        &self,
        msg: &Received,
        time: Option<&DateTime<FixedOffset>>,
        pretty: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), RenderError> {
        let mut result = Ok(());
        let ctx = Context { msg, time, pretty };
        for piece in &self.pieces {
            match piece {
                Piece::Literal(bytes) => out.extend_from_slice(bytes),
                Piece::Time(code) => {
                    if let Some(time) = time {
                        write_time(*code, time, out);
                    }
                }
                Piece::Field(field, spec) => {
                    if let Err(e) = ctx.field(*field, *spec, out) {
                        result = Err(e);
                    }
                }
            }
        }
        result
    }
}

struct Parser<'a> {
    source: &'a str,
    chars: Peekable<CharIndices<'a>>,
    /// Characters consumed so far.
    position: usize,
    pieces: Vec<Piece>,
    /// Literal bytes not yet pushed as a piece.
    literal: Vec<u8>,
}

impl Parser<'_> {
    fn next(&mut self) -> Option<(usize, char)> {
        let next = self.chars.next();
        if next.is_some() {
            self.position += 1;
        }
        next
    }

    fn next_if_eq(&mut self, c: char) -> bool {
        let found = self.chars.next_if(|&(_, next)| next == c).is_some();
        if found {
            self.position += 1;
        }
        found
    }

    fn run(&mut self) -> Result<(), FormatError> {
        while let Some((at, c)) = self.next() {
            let start = Start {
                byte: at,
                position: self.position,
            };
            match c {
                '%' => self.field(start)?,
                '@' => self.time(start)?,
                '\\' => self.escape(start)?,
                c => {
                    let mut buf = [0; 4];
                    self.literal
                        .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        self.flush_literal();
        Ok(())
    }

    fn push(&mut self, piece: Piece) {
        self.flush_literal();
        self.pieces.push(piece);
    }

    fn flush_literal(&mut self) {
        if !self.literal.is_empty() {
            let bytes = std::mem::take(&mut self.literal);
            self.pieces.push(Piece::Literal(bytes));
        }
    }

    /// The error for the piece from `start` up to what has been consumed.
    fn error(&mut self, kind: FormatErrorKind, start: Start) -> FormatError {
        let end = self.chars.peek().map_or(self.source.len(), |&(at, _)| at);
        FormatError {
            kind,
            piece: self.source[start.byte..end].to_owned(),
            position: start.position,
        }
    }

    /// After `%`: `[-][0][width][.precision]` and the field letter.
    fn field(&mut self, start: Start) -> Result<(), FormatError> {
        let mut spec = Spec {
            left: self.next_if_eq('-'),
            ..Spec::default()
        };
        spec.zero = self.next_if_eq('0');
        spec.width = self.number(start)?;
        if self.next_if_eq('.') {
            spec.precision = Some(self.number(start)?);
        }
        let Some((_, c)) = self.next() else {
            return Err(self.error(FormatErrorKind::IncompleteField, start));
        };
        if c == '%' {
            // mosquitto ignores flags and width on `%%`.
            self.literal.push(b'%');
            return Ok(());
        }
        let field =
            Field::from_char(c).ok_or_else(|| self.error(FormatErrorKind::InvalidField, start))?;
        self.push(Piece::Field(field, spec));
        Ok(())
    }

    /// Decimal digits, possibly none (0).
    fn number(&mut self, start: Start) -> Result<usize, FormatError> {
        let mut n: usize = 0;
        while let Some(&(_, c)) = self.chars.peek() {
            let Some(digit) = c.to_digit(10) else { break };
            self.next();
            n = n * 10 + digit as usize;
            if n > MAX_WIDTH {
                while self.chars.next_if(|(_, c)| c.is_ascii_digit()).is_some() {}
                return Err(self.error(FormatErrorKind::TooWide, start));
            }
        }
        Ok(n)
    }

    /// After `@`.
    fn time(&mut self, start: Start) -> Result<(), FormatError> {
        let Some((_, c)) = self.next() else {
            return Err(self.error(FormatErrorKind::IncompleteTime, start));
        };
        if c == '@' {
            self.literal.push(b'@');
            return Ok(());
        }
        let code = TimeCode::from_char(c)
            .ok_or_else(|| self.error(FormatErrorKind::InvalidTime, start))?;
        self.push(Piece::Time(code));
        Ok(())
    }

    /// After `\`.
    fn escape(&mut self, start: Start) -> Result<(), FormatError> {
        let Some((_, c)) = self.next() else {
            return Err(self.error(FormatErrorKind::IncompleteEscape, start));
        };
        let byte = match c {
            '\\' => b'\\',
            '0' => 0,
            'a' => 0x07,
            'e' => 0x1b,
            'n' => b'\n',
            'r' => b'\r',
            't' => b'\t',
            'v' => 0x0b,
            _ => return Err(self.error(FormatErrorKind::InvalidEscape, start)),
        };
        self.literal.push(byte);
        Ok(())
    }
}

/// Where a piece starts: byte offset in the source, and character position from 1.
#[derive(Clone, Copy)]
struct Start {
    byte: usize,
    position: usize,
}

fn write_time(code: TimeCode, time: &DateTime<FixedOffset>, out: &mut Vec<u8>) {
    // Writing to a Vec cannot fail, and every strftime code here is one chrono knows, so
    // the results below are always Ok.
    let _ = match code {
        TimeCode::Strftime(spec) => write!(out, "{}", time.format(spec)),
        TimeCode::Nanos => write!(out, "{:09}", time.timestamp_subsec_nanos()),
        TimeCode::Zone if time.offset().local_minus_utc() == 0 => write!(out, "UTC"),
        TimeCode::Zone => write!(out, "{}", time.format("%z")),
    };
}

/// One message and its receive time, for rendering fields.
struct Context<'a> {
    msg: &'a Received,
    time: Option<&'a DateTime<FixedOffset>>,
    pretty: bool,
}

impl Context<'_> {
    fn field(&self, field: Field, spec: Spec, out: &mut Vec<u8>) -> Result<(), RenderError> {
        let publish = &self.msg.publish;
        let props = &publish.properties;
        match field {
            Field::Topic => pad_str(publish.topic.as_str().as_bytes(), spec, out),
            Field::Payload => payload(&publish.payload, None, spec, out),
            Field::HexLower => payload(&publish.payload, Some(Case::Lower), spec, out),
            Field::HexUpper => payload(&publish.payload, Some(Case::Upper), spec, out),
            Field::Length => pad_int(publish.payload.len() as u64, spec, out),
            Field::Mid => pad_int(publish.packet_id.map_or(0, |id| id.get().into()), spec, out),
            Field::Qos => out.push(b'0' + publish.qos.as_u8()),
            Field::Retain => out.push(if publish.retain { b'1' } else { b'0' }),
            Field::TopicAlias => opt_int(props.topic_alias.map(|a| a.get().into()), spec, out),
            Field::ExpiryInterval => {
                opt_int(props.message_expiry_interval.map(u64::from), spec, out)
            }
            Field::PayloadFormat => {
                opt_int(props.payload_format_indicator.map(format_byte), spec, out)
            }
            Field::SubscriptionId => {
                let first = props.subscription_identifiers.first();
                opt_int(first.map(|id| id.get().into()), spec, out)
            }
            Field::ContentType => match &props.content_type {
                Some(ct) => pad_str(ct.as_str().as_bytes(), spec, out),
                None => out.resize(out.len() + spec.width, b' '),
            },
            Field::ResponseTopic => {
                if let Some(rt) = &props.response_topic {
                    pad_str(rt.as_str().as_bytes(), spec, out);
                }
            }
            Field::CorrelationData => {
                if let Some(data) = &props.correlation_data {
                    out.extend_from_slice(data);
                }
            }
            Field::UserProperties => user_properties(self.msg, out),
            Field::Iso8601 | Field::UnixTime | Field::Json | Field::JsonPayload => {
                return self.timed(field, spec, out);
            }
        }
        Ok(())
    }

    /// The fields that show the receive time.
    fn timed(&self, field: Field, spec: Spec, out: &mut Vec<u8>) -> Result<(), RenderError> {
        let Some(time) = self.time else {
            return Ok(());
        };
        match field {
            Field::Iso8601 => {
                let iso = time.format("%Y-%m-%dT%H:%M:%S%z").to_string();
                pad_str(iso.as_bytes(), spec, out);
            }
            Field::UnixTime => {
                let nanos = time.timestamp_subsec_nanos();
                out.extend_from_slice(format!("{}.{nanos:09}", time.timestamp()).as_bytes());
            }
            Field::Json => self.json(time, false, out)?,
            _ => self.json(time, true, out)?,
        }
        Ok(())
    }

    /// `%j`, or `%J` when `embed` (the payload parsed as JSON and printed in place).
    fn json(
        &self,
        time: &DateTime<FixedOffset>,
        embed: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), RenderError> {
        let publish = &self.msg.publish;
        let payload = if publish.payload.is_empty() {
            // libmosquitto hands over no payload at all for length 0.
            Json::Null
        } else if embed {
            cjson::parse(&publish.payload).ok_or_else(|| RenderError::NotJson {
                topic: publish.topic.as_str().to_owned(),
            })?
        } else {
            text_or_bytes(&publish.payload)
        };
        let message = json_message(self.msg, time, payload);
        cjson::print(&message, self.pretty, out);
        Ok(())
    }
}

/// A string when the bytes are UTF-8, else an array of byte values.
fn text_or_bytes(bytes: &[u8]) -> Json<'_> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Json::String(Cow::Borrowed(text)),
        Err(_) => Json::Bytes(bytes),
    }
}

fn json_message<'a>(
    msg: &'a Received,
    time: &DateTime<FixedOffset>,
    payload: Json<'a>,
) -> Json<'a> {
    let publish = &msg.publish;
    let number = |n: u64| Json::Number(n as f64);
    let tst = format!(
        "{}.{:06}{}",
        time.format("%Y-%m-%dT%H:%M:%S"),
        time.timestamp_subsec_micros(),
        time.format("%z")
    );
    let mut members = vec![
        (Cow::Borrowed("tst"), Json::String(Cow::Owned(tst))),
        ("topic".into(), Json::String(publish.topic.as_str().into())),
        ("qos".into(), number(publish.qos.as_u8().into())),
        ("retain".into(), number(publish.retain.into())),
        ("payloadlen".into(), number(publish.payload.len() as u64)),
    ];
    if let Some(id) = publish.packet_id {
        members.push(("mid".into(), number(id.get().into())));
    }
    let properties = json_properties(msg);
    if !properties.is_empty() {
        members.push(("properties".into(), Json::Object(properties)));
    }
    members.push(("payload".into(), payload));
    Json::Object(members)
}

/// The 5.0 properties under mosquitto's names, in the order the module docs give.
fn json_properties(msg: &Received) -> Vec<(Cow<'_, str>, Json<'_>)> {
    let props = &msg.publish.properties;
    let number = |n: u64| Json::Number(n as f64);
    let mut members: Vec<(Cow<str>, Json)> = Vec::new();
    for id in &props.subscription_identifiers {
        members.push(("subscription-identifier".into(), number(id.get().into())));
    }
    if let Some(pfi) = props.payload_format_indicator {
        members.push(("payload-format-indicator".into(), number(format_byte(pfi))));
    }
    if let Some(ct) = &props.content_type {
        members.push(("content-type".into(), Json::String(ct.as_str().into())));
    }
    if let Some(rt) = &props.response_topic {
        members.push(("response-topic".into(), Json::String(rt.as_str().into())));
    }
    if let Some(data) = &props.correlation_data {
        members.push(("correlation-data".into(), text_or_bytes(data)));
    }
    if let Some(alias) = props.topic_alias {
        members.push(("topic-alias".into(), number(alias.get().into())));
    }
    if !props.user_properties.is_empty() {
        let pairs = props.user_properties.iter();
        let pairs = pairs.map(|(k, v)| (k.as_str().into(), Json::String(v.as_str().into())));
        members.push(("user-properties".into(), Json::Object(pairs.collect())));
    }
    if let Some(expiry) = props.message_expiry_interval {
        members.push(("message-expiry-interval".into(), number(expiry.into())));
    }
    members
}

fn format_byte(format: PayloadFormat) -> u64 {
    match format {
        PayloadFormat::Unspecified => 0,
        PayloadFormat::Utf8 => 1,
    }
}

/// `%P`: `key:value` pairs separated by spaces.
fn user_properties(msg: &Received, out: &mut Vec<u8>) {
    for (i, (key, value)) in msg.publish.properties.user_properties.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(key.as_str().as_bytes());
        out.push(b':');
        out.extend_from_slice(value.as_str().as_bytes());
    }
}

/// An integer like printf's `%d`, `%-*d`, `%0*d` or `%*d`.
fn pad_int(value: u64, spec: Spec, out: &mut Vec<u8>) {
    let width = spec.width;
    // Writing to a Vec cannot fail.
    let _ = if spec.left {
        write!(out, "{value:<width$}")
    } else if spec.zero {
        write!(out, "{value:0width$}")
    } else {
        write!(out, "{value:width$}")
    };
}

/// An integer property: the value, or `width` pad characters when it is absent.
fn opt_int(value: Option<u64>, spec: Spec, out: &mut Vec<u8>) {
    match value {
        Some(value) => pad_int(value, spec, out),
        None => out.resize(out.len() + spec.width, spec.pad_byte()),
    }
}

/// A string like printf's `%-*.*s`: precision cuts, width pads with spaces (both count bytes).
fn pad_str(value: &[u8], spec: Spec, out: &mut Vec<u8>) {
    let value = match spec.precision {
        Some(max) => &value[..value.len().min(max)],
        None => value,
    };
    let pad = spec.width.saturating_sub(value.len());
    if !spec.left {
        out.resize(out.len() + pad, b' ');
    }
    out.extend_from_slice(value);
    if spec.left {
        out.resize(out.len() + pad, b' ');
    }
}

#[derive(Clone, Copy)]
enum Case {
    Lower,
    Upper,
}

/// `%p`, `%x`, `%X`: a width both pads and truncates (mosquitto's `write_payload`).
fn payload(payload: &[u8], hex: Option<Case>, spec: Spec, out: &mut Vec<u8>) {
    let per_byte = if hex.is_some() { 2 } else { 1 };
    let shown = if spec.width > 0 {
        &payload[..payload.len().min(spec.width / per_byte)]
    } else {
        payload
    };
    let pad = if spec.width == 0 && spec.left {
        // mosquitto hands printf a width of minus the payload length here, which pads on the
        // right with that many spaces.
        payload.len()
    } else {
        spec.width.saturating_sub(shown.len() * per_byte)
    };
    if !spec.left {
        out.resize(out.len() + pad, spec.pad_byte());
    }
    match hex {
        None => out.extend_from_slice(shown),
        Some(case) => write_hex(shown, case, out),
    }
    if spec.left {
        out.resize(out.len() + pad, b' ');
    }
}

fn write_hex(bytes: &[u8], case: Case, out: &mut Vec<u8>) {
    let digits: &[u8; 16] = match case {
        Case::Lower => b"0123456789abcdef",
        Case::Upper => b"0123456789ABCDEF",
    };
    out.reserve(bytes.len() * 2);
    for &b in bytes {
        out.push(digits[usize::from(b >> 4)]);
        out.push(digits[usize::from(b & 0xf)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fixtures::{full_v5, instant, message};
    use bytes::Bytes;

    /// The receive time of the fixtures, at +01:00.
    fn at_plus_one() -> DateTime<FixedOffset> {
        let zone = FixedOffset::east_opt(3600).unwrap();
        DateTime::<chrono::Utc>::from(instant()).with_timezone(&zone)
    }

    fn render_with(format: &str, msg: &Received, pretty: bool) -> Vec<u8> {
        let format = Format::parse(format).unwrap();
        let mut out = Vec::new();
        format
            .render_at(msg, Some(&at_plus_one()), pretty, &mut out)
            .unwrap();
        out
    }

    fn render(format: &str, msg: &Received) -> String {
        String::from_utf8(render_with(format, msg, false)).unwrap()
    }

    fn error(format: &str) -> (FormatErrorKind, String, usize) {
        let e = Format::parse(format).unwrap_err();
        (e.kind, e.piece, e.position)
    }

    #[test]
    fn message_fields() {
        let m = full_v5();
        assert_eq!(
            render("%t|%p|%l|%m|%q|%r|%x|%X|%%", &m),
            "t/full|hello|5|7|1|1|68656c6c6f|68656C6C6F|%"
        );
    }

    #[test]
    fn v5_property_fields() {
        // Checked against mosquitto_sub 2.0.11: `%P` joins pairs with a space, repeats keys.
        assert_eq!(
            render("%A|%C|%D|%E|%F|%P|%R|%S", &full_v5()),
            "3|text/plain|corr1|100|1|a:b a:c k2:v 2|r/t|5"
        );
    }

    #[test]
    fn absent_properties_print_nothing_or_padding() {
        // mosquitto_sub 2.0.11 printed `||||||||0|0` and, with width 5,
        // `|     |||     |     |     |     |    0|0|0|    5`.
        let m = message("t/a", b"hello");
        assert_eq!(render("%P|%C|%R|%D|%E|%F|%A|%S|%m|%q", &m), "||||||||0|0");
        assert_eq!(
            render("%5P|%5C|%5R|%5D|%5E|%5F|%5A|%5S|%5m|%5q|%5r|%5l", &m),
            "|     |||     |     |     |     |    0|0|0|    5"
        );
        assert_eq!(
            render(
                "%05P|%05C|%05R|%05D|%05E|%05F|%05A|%05S|%05m|%05q|%05r|%05l",
                &m
            ),
            "|     |||00000|00000|00000|00000|00000|0|0|00005"
        );
        // An absent integer property pads with the pad character even when left-aligned.
        assert_eq!(render("%-05S|%-5S", &m), "00000|     ");
    }

    #[test]
    fn integer_width_flags() {
        let m = full_v5();
        assert_eq!(
            render("%5E|%-5E|%05E|%-05E|%1E", &m),
            "  100|100  |00100|100  |100"
        );
        assert_eq!(render("%3m|%03m|%-3m|", &m), "  7|007|7  |");
        assert_eq!(render("%4A|%04F|%-4S|", &m), "   3|0001|5   |");
    }

    #[test]
    fn expiry_over_i32_prints_unsigned() {
        let mut m = message("t", b"");
        m.publish.properties.message_expiry_interval = Some(u32::MAX);
        assert_eq!(render("%E", &m), "4294967295");
    }

    #[test]
    fn string_width_and_precision() {
        // mosquitto_sub 2.0.11: `%5.2C|%.2R|%-8.3t|%.0t|%.t` of content type `abcdef`,
        // response topic `rrrrr` and topic `t/abcdef` gave `   ab|rr|t/a     ||`.
        let mut m = message("t/abcdef", b"");
        m.publish.properties.content_type =
            Some(crate::protocol::MqttString::new("abcdef").unwrap());
        m.publish.properties.response_topic = Some(crate::topic::TopicName::new("rrrrr").unwrap());
        assert_eq!(
            render("%5.2C|%.2R|%-8.3t|%.0t|%.t", &m),
            "   ab|rr|t/a     ||"
        );
        assert_eq!(
            render("%10t|%-10t|%3t|%010t", &m),
            "  t/abcdef|t/abcdef  |t/abcdef|  t/abcdef"
        );
    }

    #[test]
    fn string_precision_counts_bytes_like_printf() {
        let m = message("é/x", b"");
        assert_eq!(render_with("%.1t", &m, false), b"\xc3");
        assert_eq!(render("%5t|%4t", &m), " é/x|é/x");
    }

    #[test]
    fn payload_width_pads_and_truncates() {
        // mosquitto_sub 2.0.11 with payload `abcdef`.
        let m = message("t", b"abcdef");
        assert_eq!(
            render("%x|%X|%l|%5x|%4x|%6x|%05x|%-6x|%3p|%-8p|%08p|%.2p|%4X", &m),
            "616263646566|616263646566|6| 6162|6162|616263|06162|616263|abc|abcdef  |00abcdef|abcdef|6162"
        );
        let short = message("t", b"ab");
        assert_eq!(
            render("%3p|%-8p|%08p|%-08p", &short),
            " ab|ab      |000000ab|ab      "
        );
    }

    #[test]
    fn left_aligned_payload_without_width_is_followed_by_spaces() {
        // mosquitto_sub 2.0.11: `abcd    |61626364    |61626364    |abcd    |`.
        let m = message("t", b"abcd");
        assert_eq!(
            render("%-p|%-x|%-X|%-0p|", &m),
            "abcd    |61626364    |61626364    |abcd    |"
        );
        assert_eq!(render("%-p|%-x|", &message("t", b"")), "||");
    }

    #[test]
    fn hex_width_keeps_short_payloads_whole() {
        // mosquitto prints `   61|  61|00061|61    ` here, dropping the second byte.
        let m = message("t", b"ab");
        assert_eq!(render("%5x|%4x|%05x|%-6x", &m), " 6162|6162|06162|6162  ");
    }

    #[test]
    fn empty_payload() {
        // mosquitto_sub 2.0.11: `%x|%X|%5x|%5p|` gave `||     |     |`.
        let m = message("t", b"");
        assert_eq!(render("%x|%X|%5x|%5p|%p|%l", &m), "||     |     ||0");
    }

    #[test]
    fn binary_payloads_pass_through() {
        let m = message("t", b"\x00\xff\n");
        assert_eq!(
            render_with("%p|%x|%X", &m, false),
            b"\x00\xff\n|00ff0a|00FF0A"
        );
    }

    #[test]
    fn escapes() {
        // mosquitto_sub 2.0.11 printed these bytes.
        let m = message("t", b"");
        assert_eq!(
            render_with("\\\\|\\0|\\a|\\e|\\n|\\r|\\t|\\v|@@|%%|%-5%", &m, false),
            b"\\|\x00|\x07|\x1b|\n|\r|\t|\x0b|@|%|%"
        );
    }

    #[test]
    fn literal_text_passes_through() {
        let m = message("t", b"p");
        assert_eq!(render("topic é: %t, ok", &m), "topic é: t, ok");
        assert_eq!(render("", &m), "");
    }

    #[test]
    fn iso_8601_and_unix_time() {
        let m = message("t", b"");
        assert_eq!(
            render("%I|%30I|%-26I|%.10I|%U|%5U", &m),
            "2026-11-23T13:00:00+0100|      2026-11-23T13:00:00+0100|2026-11-23T13:00:00+0100  \
             |2026-11-23|1795435200.123456789|1795435200.123456789"
        );
    }

    #[test]
    fn strftime_codes_in_the_c_locale() {
        // The forms glibc's strftime gives in the C locale (as mosquitto_sub 2.0.11 printed
        // them), for Monday 2026-11-23 13:00:00.123456789 +0100.
        let m = message("t", b"");
        let cases = [
            ("a", "Mon"),
            ("A", "Monday"),
            ("b", "Nov"),
            ("B", "November"),
            ("c", "Mon Nov 23 13:00:00 2026"),
            ("C", "20"),
            ("d", "23"),
            ("D", "11/23/26"),
            ("e", "23"),
            ("F", "2026-11-23"),
            ("g", "26"),
            ("G", "2026"),
            ("h", "Nov"),
            ("H", "13"),
            ("I", "01"),
            ("j", "327"),
            ("k", "13"),
            ("l", " 1"),
            ("m", "11"),
            ("M", "00"),
            ("n", "\n"),
            ("p", "PM"),
            ("P", "pm"),
            ("r", "01:00:00 PM"),
            ("R", "13:00"),
            ("s", "1795435200"),
            ("S", "00"),
            ("t", "\t"),
            ("T", "13:00:00"),
            ("u", "1"),
            ("U", "47"),
            ("V", "48"),
            ("w", "1"),
            ("W", "47"),
            ("x", "11/23/26"),
            ("X", "13:00:00"),
            ("y", "26"),
            ("Y", "2026"),
            ("z", "+0100"),
            ("Z", "+0100"),
            ("%", "%"),
            ("N", "123456789"),
        ];
        for (code, expected) in cases {
            assert_eq!(render(&format!("@{code}"), &m), expected, "@{code}");
        }
    }

    #[test]
    fn zone_of_utc_is_named() {
        let m = message("t", b"");
        let utc = DateTime::<chrono::Utc>::from(instant()).fixed_offset();
        let mut out = Vec::new();
        let format = Format::parse("@Z @H").unwrap();
        format.render_at(&m, Some(&utc), false, &mut out).unwrap();
        assert_eq!(out, b"UTC 12");
    }

    #[test]
    fn render_uses_local_time() {
        let m = message("t", b"");
        let mut out = Vec::new();
        Format::parse("%U")
            .unwrap()
            .render(&m, false, &mut out)
            .unwrap();
        assert_eq!(out, b"1795435200.123456789");
        let local = DateTime::<Local>::from(instant());
        out.clear();
        Format::parse("%I")
            .unwrap()
            .render(&m, false, &mut out)
            .unwrap();
        assert_eq!(
            out,
            local.format("%Y-%m-%dT%H:%M:%S%z").to_string().as_bytes()
        );
    }

    #[test]
    fn json_of_a_plain_message() {
        // The shape mosquitto_sub 2.0.11 prints, with 2.0.12's `tst`.
        let m = message("t/a", b"hello");
        assert_eq!(
            render("%j", &m),
            r#"{"tst":"2026-11-23T13:00:00.123456+0100","topic":"t/a","qos":0,"retain":0,"payloadlen":5,"payload":"hello"}"#
        );
    }

    #[test]
    fn json_of_a_full_v5_message() {
        assert_eq!(
            render("%j", &full_v5()),
            concat!(
                r#"{"tst":"2026-11-23T13:00:00.123456+0100","topic":"t/full","qos":1,"retain":1,"#,
                r#""payloadlen":5,"mid":7,"properties":{"subscription-identifier":5,"#,
                r#""subscription-identifier":9,"payload-format-indicator":1,"content-type":"text/plain","#,
                r#""response-topic":"r/t","correlation-data":"corr1","topic-alias":3,"#,
                r#""user-properties":{"a":"b","a":"c","k2":"v 2"},"message-expiry-interval":100},"#,
                r#""payload":"hello"}"#
            )
        );
    }

    #[test]
    fn json_pretty_matches_cjson_print() {
        // mosquitto_sub 2.0.11 --pretty, for a QoS 1 message with one user property.
        let mut m = message("t/a", b"hi");
        m.publish.qos = crate::protocol::QoS::AtLeastOnce;
        m.publish.packet_id = crate::protocol::PacketId::new(1);
        let s = |v: &str| crate::protocol::MqttString::new(v).unwrap();
        m.publish.properties.user_properties = vec![(s("a"), s("b"))];
        assert_eq!(
            String::from_utf8(render_with("%j", &m, true)).unwrap(),
            "{\n\t\"tst\":\t\"2026-11-23T13:00:00.123456+0100\",\n\t\"topic\":\t\"t/a\",\n\t\"qos\":\t1,\
             \n\t\"retain\":\t0,\n\t\"payloadlen\":\t2,\n\t\"mid\":\t1,\n\t\"properties\":\t{\n\t\t\
             \"user-properties\":\t{\n\t\t\t\"a\":\t\"b\"\n\t\t}\n\t},\n\t\"payload\":\t\"hi\"\n}"
        );
    }

    #[test]
    fn json_of_an_empty_payload_is_null() {
        let m = message("t", b"");
        assert!(render("%j", &m).ends_with(r#""payloadlen":0,"payload":null}"#));
        assert!(render("%J", &m).ends_with(r#""payloadlen":0,"payload":null}"#));
    }

    #[test]
    fn json_escapes_text_payloads_like_mosquitto() {
        // mosquitto_sub 2.0.11 printed this payload (without the 0xff) this way.
        let m = message("t", b"a\x01\"\\/\x7f\n\t\x08\x0c\r\xc3\xa9\x1f");
        assert!(render("%j", &m)
            .ends_with("\"payload\":\"a\\u0001\\\"\\\\/\u{7f}\\n\\t\\b\\f\\r\u{e9}\\u001f\"}"));
    }

    #[test]
    fn json_keeps_nul_and_binary_payloads_valid() {
        let nul = message("t", b"a\x00b");
        assert!(render("%j", &nul).ends_with(r#""payload":"a\u0000b"}"#));
        let binary = message("t", b"\x00\xff\x00");
        let out = render("%j", &binary);
        assert!(out.ends_with(r#""payloadlen":3,"payload":[0,255,0]}"#));
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back["payload"], serde_json::json!([0, 255, 0]));
    }

    #[test]
    fn json_binary_correlation_data_is_an_array() {
        let mut m = message("t", b"x");
        m.publish.properties.correlation_data = Some(Bytes::from_static(b"\xfe\x01"));
        assert!(render("%j", &m).contains(r#""properties":{"correlation-data":[254,1]}"#));
    }

    #[test]
    fn json_payload_embedded() {
        // mosquitto_sub 2.0.11 reprinted this payload the same way.
        let payload = br#"{"a": 1.0, "b":[1,2, 1e10,  -0.0, 0.1, 12345678901234567890], "c":"\u00e9\/x", "a":2, "d":{}, "e":[]}"#;
        let m = message("t/a", payload);
        assert!(render("%J", &m).ends_with(
            r#""payloadlen":101,"payload":{"a":1,"b":[1,2,10000000000,-0,0.1,1.2345678901234567e+19],"c":"é/x","a":2,"d":{},"e":[]}}"#
        ));
    }

    #[test]
    fn json_payload_pretty() {
        let m = message("t/a", br#"{"a": 1.0, "b":[1,2, {"x":[]}], "d":{}, "e":[]}"#);
        let out = String::from_utf8(render_with("%J", &m, true)).unwrap();
        assert!(out.ends_with(
            "\"payload\":\t{\n\t\t\"a\":\t1,\n\t\t\"b\":\t[1, 2, {\n\t\t\t\t\"x\":\t[]\n\t\t\t}],\
             \n\t\t\"d\":\t{\n\t\t},\n\t\t\"e\":\t[]\n\t}\n}"
        ));
    }

    #[test]
    fn json_payload_that_is_not_json_is_skipped_with_an_error() {
        // mosquitto_sub 2.0.11 printed `|t/a` and the error on stderr.
        let m = message("t/a", b"nojson");
        let format = Format::parse("%J|%t").unwrap();
        let mut out = Vec::new();
        let err = format
            .render_at(&m, Some(&at_plus_one()), false, &mut out)
            .unwrap_err();
        assert_eq!(out, b"|t/a");
        assert_eq!(
            err,
            RenderError::NotJson {
                topic: "t/a".into()
            }
        );
    }

    #[test]
    fn flags_on_other_fields_are_ignored() {
        let m = full_v5();
        assert_eq!(
            render("%5q|%-5r|%05D|%9P|%5.1U", &m),
            "1|1|corr1|a:b a:c k2:v 2|1795435200.123456789"
        );
    }

    #[test]
    fn incomplete_pieces_are_refused() {
        use FormatErrorKind::*;
        assert_eq!(error("abc%"), (IncompleteField, "%".into(), 4));
        assert_eq!(error("%-"), (IncompleteField, "%-".into(), 1));
        assert_eq!(error("%0"), (IncompleteField, "%0".into(), 1));
        assert_eq!(error("x%-05"), (IncompleteField, "%-05".into(), 2));
        assert_eq!(error("%5."), (IncompleteField, "%5.".into(), 1));
        assert_eq!(error("%5.3"), (IncompleteField, "%5.3".into(), 1));
        assert_eq!(error("%t\\"), (IncompleteEscape, "\\".into(), 3));
        assert_eq!(error("x@"), (IncompleteTime, "@".into(), 2));
    }

    #[test]
    fn invalid_pieces_are_refused() {
        use FormatErrorKind::*;
        assert_eq!(error("%k"), (InvalidField, "%k".into(), 1));
        assert_eq!(error("é%5.2é"), (InvalidField, "%5.2é".into(), 2));
        // One flag, then digits: `%0-5p` is refused by mosquitto's check_format() too.
        assert_eq!(error("%0-5p"), (InvalidField, "%0-".into(), 1));
        assert_eq!(error("%--p"), (InvalidField, "%--".into(), 1));
        assert_eq!(error("%f"), (InvalidField, "%f".into(), 1));
        assert_eq!(error("%d"), (InvalidField, "%d".into(), 1));
        assert_eq!(error("ok \\q"), (InvalidEscape, "\\q".into(), 4));
        assert_eq!(error("\\x41"), (InvalidEscape, "\\x".into(), 1));
        assert_eq!(error("@Q"), (InvalidTime, "@Q".into(), 1));
        assert_eq!(error("@E"), (InvalidTime, "@E".into(), 1));
        assert_eq!(error("@+"), (InvalidTime, "@+".into(), 1));
        assert_eq!(
            error("%99999999999999999999999p"),
            (TooWide, "%99999999999999999999999".into(), 1)
        );
        assert_eq!(error("%.65536t"), (TooWide, "%.65536".into(), 1));
    }

    #[test]
    fn accepted_flag_combinations() {
        for ok in [
            "%-05p", "%-0p", "%00p", "%.p", "%5.t", "%65535p", "%-%", "%.65535t",
        ] {
            assert!(Format::parse(ok).is_ok(), "{ok}");
        }
        let m = message("t", b"abc");
        assert_eq!(render("%-05p|", &m), "abc  |");
        assert_eq!(render("%00p|", &m), "abc|");
    }

    #[test]
    fn errors_are_one_clear_line() {
        let e = Format::parse("%t %k").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid format specifier '%k' at character 4 of the format"
        );
        let e = Format::parse("%t\\").unwrap_err();
        assert_eq!(
            e.to_string(),
            "incomplete escape specifier '\\' at character 3 of the format"
        );
        let e = Format::parse("%100000p").unwrap_err();
        assert_eq!(
            e.to_string(),
            "width or precision over 65535 in '%100000' at character 1 of the format"
        );
    }

    #[test]
    fn literals_are_merged_into_one_piece() {
        let format = Format::parse("a\\tb@@c%%d").unwrap();
        assert_eq!(format.pieces, [Piece::Literal(b"a\tb@c%d".to_vec())]);
        assert!(!format.needs_time);
        assert!(Format::parse("%j").unwrap().needs_time);
        assert!(!Format::parse("%t %p").unwrap().needs_time);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn parse_never_panics(s in "\\PC*") {
                let _ = Format::parse(&s);
            }

            #[test]
            fn formats_of_fields_and_text_render(s in "([a-z /]|%-?0?[0-9]{0,3}(\\.[0-9]{0,2})?[tplmqrxXACDEFPRSIUj%]|@[HMSN@]|\\\\[nt0])*") {
                let format = Format::parse(&s).unwrap();
                let mut out = Vec::new();
                format.render(&full_v5(), false, &mut out).unwrap();
            }

            #[test]
            fn j_is_json_for_any_payload(payload in proptest::collection::vec(any::<u8>(), 0..64)) {
                let m = message("t", &payload);
                let out = render_with("%j", &m, false);
                let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
                let back = match &v["payload"] {
                    serde_json::Value::Null => Vec::new(),
                    serde_json::Value::String(s) => s.as_bytes().to_vec(),
                    serde_json::Value::Array(a) => a.iter().map(|b| b.as_u64().unwrap() as u8).collect(),
                    other => panic!("payload {other}"),
                };
                prop_assert_eq!(back, payload);
            }
        }
    }
}
