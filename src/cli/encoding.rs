//! `--encoding utf8|hex|base64`: how payloads given as text (`-m`, `-f`, `-s`, `-l`, JSON line
//! payloads) and binary `-D` properties (correlation data, authentication data) turn into bytes.
//! `utf8` (the default) takes the bytes as they are, as mosquitto does; `hex` and `base64` let a
//! shell script send bytes that are not text (mosquitto #3212, MQTTX `-f hex`).

use base64::Engine as _;
use bytes::Bytes;
use clap::ValueEnum;

/// How text given on the command line or stdin becomes payload bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Encoding {
    /// The bytes as given.
    #[default]
    Utf8,
    /// Hexadecimal digits, two per byte (whitespace ignored).
    Hex,
    /// Standard base64 (padding optional, whitespace ignored).
    Base64,
}

impl Encoding {
    /// Decodes `text` (a `-m` value, a property value).
    pub fn decode(self, text: &str) -> Result<Bytes, String> {
        self.decode_bytes(text.as_bytes())
    }

    /// Decodes raw input (a file, a line of stdin).
    pub fn decode_bytes(self, input: &[u8]) -> Result<Bytes, String> {
        match self {
            Encoding::Utf8 => Ok(Bytes::copy_from_slice(input)),
            Encoding::Hex => hex(input),
            Encoding::Base64 => base64(input),
        }
    }
}

fn hex(input: &[u8]) -> Result<Bytes, String> {
    let digits: Vec<u8> = input
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if !digits.len().is_multiple_of(2) {
        return Err("invalid hex: an odd number of digits".into());
    }
    digits
        .chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).map_err(|_| "invalid hex: not ASCII".to_string())?;
            u8::from_str_radix(s, 16).map_err(|_| format!("invalid hex digits '{s}'"))
        })
        .collect::<Result<Vec<u8>, String>>()
        .map(Bytes::from)
}

fn base64(input: &[u8]) -> Result<Bytes, String> {
    let text: Vec<u8> = input
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    engine
        .decode(text)
        .map(Bytes::from)
        .map_err(|e| format!("invalid base64: {e}"))
}

#[cfg(test)]
mod tests {
    use super::Encoding;

    #[test]
    fn decodes_each_encoding() {
        assert_eq!(Encoding::Utf8.decode("héllo").unwrap(), "héllo".as_bytes());
        assert_eq!(
            Encoding::Hex.decode("00 ff\n10").unwrap(),
            &[0u8, 0xff, 0x10][..]
        );
        assert_eq!(
            Encoding::Base64.decode("AP8Q").unwrap(),
            &[0u8, 0xff, 0x10][..]
        );
        assert_eq!(Encoding::Base64.decode("AP8").unwrap(), &[0u8, 0xff][..]);
    }

    #[test]
    fn rejects_bad_input_with_a_reason() {
        assert!(Encoding::Hex.decode("abc").unwrap_err().contains("odd"));
        assert!(Encoding::Hex.decode("zz").unwrap_err().contains("'zz'"));
        assert!(Encoding::Base64
            .decode("!!")
            .unwrap_err()
            .contains("base64"));
    }
}
