//! mosquitto_sub's default output (the payload as it is) and `-v` (`topic payload`), with an
//! optional coloured topic.
//!
//! With colour off the bytes are mosquitto_sub 2.0's, including its rules for an empty
//! payload (checked against the real binary): the default output prints nothing at all for
//! it, not even the newline; `-v` prints `topic (null)` and the newline, or nothing under
//! `-N`. A topic with spaces is ambiguous in `-v` output (mosquitto #587); `--json` or `-F`
//! are the unambiguous forms.

use anstyle::{AnsiColor, Color, Style};

use super::Received;

/// Whether the topic of `-v` output is coloured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Colour {
    /// Plain bytes, as mosquitto_sub prints them.
    #[default]
    Off,
    /// The topic in [`TOPIC_STYLE`], the payload plain.
    On,
}

/// The style of topics: magenta, like the file names of ripgrep's output.
pub const TOPIC_STYLE: Style = Style::new()
    .bold()
    .fg_color(Some(Color::Ansi(AnsiColor::Magenta)));

/// Appends one message in the default form (`verbose` false) or the `-v` form, ending it
/// with `\n` when `eol`, both as mosquitto_sub does (see the module docs for empty payloads).
pub fn write_plain(msg: &Received, verbose: bool, colour: Colour, eol: bool, out: &mut Vec<u8>) {
    let publish = &msg.publish;
    let payload: &[u8] = &publish.payload;
    if payload.is_empty() && !(verbose && eol) {
        return;
    }
    if verbose {
        write_topic(publish.topic.as_str(), colour, out);
        out.push(b' ');
    }
    if payload.is_empty() {
        out.extend_from_slice(b"(null)");
    } else {
        out.extend_from_slice(payload);
    }
    if eol {
        out.push(b'\n');
    }
}

fn write_topic(topic: &str, colour: Colour, out: &mut Vec<u8>) {
    match colour {
        Colour::Off => out.extend_from_slice(topic.as_bytes()),
        Colour::On => {
            let text = format!(
                "{}{topic}{}",
                TOPIC_STYLE.render(),
                TOPIC_STYLE.render_reset()
            );
            out.extend_from_slice(text.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fixtures::message;

    fn plain(topic: &str, payload: &[u8], verbose: bool, colour: Colour, eol: bool) -> Vec<u8> {
        let mut out = Vec::new();
        write_plain(&message(topic, payload), verbose, colour, eol, &mut out);
        out
    }

    #[test]
    fn default_is_the_payload() {
        assert_eq!(plain("t", b"hello", false, Colour::Off, true), b"hello\n");
        assert_eq!(plain("t", b"hello", false, Colour::Off, false), b"hello");
        // Colour only touches the topic, which the default form does not show.
        assert_eq!(plain("t", b"hello", false, Colour::On, true), b"hello\n");
    }

    #[test]
    fn default_prints_nothing_for_an_empty_payload() {
        // mosquitto_sub 2.0.11: no line at all, with or without -N.
        assert_eq!(plain("t", b"", false, Colour::Off, true), b"");
        assert_eq!(plain("t", b"", false, Colour::Off, false), b"");
    }

    #[test]
    fn verbose_is_topic_space_payload() {
        assert_eq!(
            plain("t/a b", b"x y", true, Colour::Off, true),
            b"t/a b x y\n"
        );
        assert_eq!(
            plain("t/end", b"END", true, Colour::Off, false),
            b"t/end END"
        );
    }

    #[test]
    fn verbose_empty_payload_is_null() {
        // mosquitto_sub 2.0.11: `t/a (null)` and a newline; nothing at all under -N.
        assert_eq!(plain("t/a", b"", true, Colour::Off, true), b"t/a (null)\n");
        assert_eq!(plain("t/a", b"", true, Colour::Off, false), b"");
    }

    #[test]
    fn binary_payloads_are_written_as_they_are() {
        assert_eq!(
            plain("t", b"\x00\xff\n", true, Colour::Off, true),
            b"t \x00\xff\n\n"
        );
    }

    #[test]
    fn colour_styles_the_topic_only() {
        assert_eq!(
            plain("t/a", b"x", true, Colour::On, true),
            b"\x1b[1m\x1b[35mt/a\x1b[0m x\n"
        );
        assert_eq!(
            plain("t/a", b"", true, Colour::On, true),
            b"\x1b[1m\x1b[35mt/a\x1b[0m (null)\n"
        );
    }
}
