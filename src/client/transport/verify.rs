//! Server certificate verification: webpki's verdict, explained.
//!
//! [`Explaining`] wraps rustls' webpki verifier and, when it rejects the server's certificate,
//! reads the certificate (x509-parser) to say what is wrong in terms a user can act on: the
//! issuer nobody trusts, the expiry date, the names the certificate is for. The explanation
//! travels through rustls as `CertificateError::Other` and is unpacked by the TLS layer.
//!
//! [`AcceptAny`] is `--insecure`: no chain, date or name check at all, but the handshake
//! signatures are still verified with the provider's algorithms, so the peer must hold the key
//! of the certificate it shows. (mosquitto 2.0's `--insecure` only skips the host name check;
//! 2.1's man page, curl's `-k` and MQTTX's `--insecure` skip verification entirely, as here.)

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, OtherError, SignatureScheme};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

use super::CertProblem;

/// webpki's verifier, with its rejections explained.
#[derive(Debug)]
pub(super) struct Explaining {
    pub(super) inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for Explaining {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map_err(|e| match e {
                Error::InvalidCertificate(c) => {
                    let problem = explain(&c, end_entity, server_name, now);
                    CertificateError::Other(OtherError(Arc::new(problem))).into()
                }
                other => other,
            })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// `--insecure`: accepts any certificate, checks the handshake signatures.
#[derive(Debug)]
pub(super) struct AcceptAny {
    pub(super) algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Turns webpki's verdict on `cert` into a [`CertProblem`].
fn explain(
    error: &CertificateError,
    der: &CertificateDer<'_>,
    server_name: &ServerName<'_>,
    now: UnixTime,
) -> CertProblem {
    let parsed = x509_parser::parse_x509_certificate(der).ok();
    let cert = parsed.as_ref().map(|(_, c)| c);
    let now_text = format_utc(unix_secs(now));
    match (error, cert) {
        (CertificateError::UnknownIssuer, Some(c)) => {
            let (issuer, subject) = (c.issuer().to_string(), c.subject().to_string());
            match issuer == subject {
                true => CertProblem::SelfSigned { subject },
                false => CertProblem::UnknownIssuer { issuer },
            }
        }
        (CertificateError::ExpiredContext { not_after, .. }, _) => CertProblem::Expired {
            not_after: format_utc(unix_secs(*not_after)),
            now: now_text,
        },
        (CertificateError::Expired, Some(c)) => CertProblem::Expired {
            not_after: format_utc(c.validity().not_after.timestamp()),
            now: now_text,
        },
        (CertificateError::NotValidYetContext { not_before, .. }, _) => CertProblem::NotYetValid {
            not_before: format_utc(unix_secs(*not_before)),
            now: now_text,
        },
        (CertificateError::NotValidYet, Some(c)) => CertProblem::NotYetValid {
            not_before: format_utc(c.validity().not_before.timestamp()),
            now: now_text,
        },
        (
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            Some(c),
        ) => CertProblem::NameMismatch {
            names: names_of(c),
            host: server_name.to_str().into_owned(),
        },
        (other, _) => CertProblem::Other(other.to_string()),
    }
}

/// The DNS names and IP addresses of the subjectAltName extension; the subject CN when there
/// is none (webpki ignores the CN, so saying so helps).
fn names_of(cert: &X509Certificate<'_>) -> Vec<String> {
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(dns) => names.push(dns.to_string()),
                GeneralName::IPAddress(bytes) => names.extend(ip_text(bytes)),
                _ => {}
            }
        }
    }
    if names.is_empty() {
        let cn = cert.subject().iter_common_name().next();
        if let Some(cn) = cn.and_then(|cn| cn.as_str().ok()) {
            names.push(format!("CN={cn} only, without subjectAltName"));
        }
    }
    names
}

fn ip_text(bytes: &[u8]) -> Option<String> {
    let ip = match bytes.len() {
        4 => std::net::IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?),
        16 => std::net::IpAddr::from(<[u8; 16]>::try_from(bytes).ok()?),
        _ => return None,
    };
    Some(ip.to_string())
}

fn unix_secs(t: UnixTime) -> i64 {
    i64::try_from(t.as_secs()).unwrap_or(i64::MAX)
}

/// `2026-01-31 23:59:59 UTC` from seconds since the Unix epoch (proleptic Gregorian calendar;
/// Howard Hinnant's `civil_from_days`).
pub(super) fn format_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::format_utc;

    #[test]
    fn utc_dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_utc(1_767_225_599), "2025-12-31 23:59:59 UTC");
        assert_eq!(format_utc(-1), "1969-12-31 23:59:59 UTC");
    }
}
