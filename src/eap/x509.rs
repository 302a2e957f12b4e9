//! The user name in an EAP-TLS client certificate, already verified by the TLS stack: the
//! local part of a SAN UPN (otherName 1.3.6.1.4.1.311.20.2.3) or SAN email (rfc822Name), else
//! the subject's common name.
//!
//! What it owns: a small, bounded DER reader over just the fields it needs. What it must not
//! do: verify anything (rustls's WebPKI verifier did) or accept what it cannot read: any
//! malformed structure is an error, never a panic.

use thiserror::Error;

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
const EXPLICIT_0: u8 = 0xa0;
const EXPLICIT_3: u8 = 0xa3;
const SAN_RFC822: u8 = 0x81;
const SAN_OTHER_NAME: u8 = 0xa0;
const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
const OID_SAN: &[u8] = &[0x55, 0x1d, 0x11];
const OID_UPN: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x14, 0x02, 0x03];

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum X509Error {
    #[error("certificate DER malformed")]
    Malformed,
    #[error("certificate names no user (no UPN, email or common name)")]
    NoName,
}

/// Where the user name came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameSource {
    Upn,
    Email,
    CommonName,
}

/// One DER element: tag, contents, and what follows.
fn element(input: &[u8]) -> Result<(u8, &[u8], &[u8]), X509Error> {
    let [tag, first, rest @ ..] = input else {
        return Err(X509Error::Malformed);
    };
    let (len, rest) = match *first {
        n if n < 0x80 => (usize::from(n), rest),
        0x81..=0x83 => {
            let count = usize::from(first & 0x7f);
            let (bytes, rest) = rest.split_at_checked(count).ok_or(X509Error::Malformed)?;
            (
                bytes
                    .iter()
                    .fold(0usize, |acc, &b| acc << 8 | usize::from(b)),
                rest,
            )
        }
        _ => return Err(X509Error::Malformed),
    };
    let (contents, after) = rest.split_at_checked(len).ok_or(X509Error::Malformed)?;
    Ok((*tag, contents, after))
}

fn expect(input: &[u8], tag: u8) -> Result<(&[u8], &[u8]), X509Error> {
    match element(input)? {
        (t, contents, rest) if t == tag => Ok((contents, rest)),
        _ => Err(X509Error::Malformed),
    }
}

fn local_part(address: &str) -> Option<String> {
    let local = address.split_once('@').map_or(address, |(l, _)| l);
    (!local.is_empty()).then(|| local.to_string())
}

/// The user name the certificate names, and where it came from.
pub fn user_name(der: &[u8]) -> Result<(String, NameSource), X509Error> {
    let (cert, _) = expect(der, SEQUENCE)?;
    let (mut tbs, _) = expect(cert, SEQUENCE)?;
    if tbs.first() == Some(&EXPLICIT_0) {
        tbs = element(tbs)?.2;
    }
    // serial, signature algorithm, issuer, validity
    for _ in 0..4 {
        tbs = element(tbs)?.2;
    }
    let (subject, mut rest) = expect(tbs, SEQUENCE)?;
    let (mut upn, mut email) = (None, None);
    while !rest.is_empty() {
        let (tag, contents, next) = element(rest)?;
        if tag == EXPLICIT_3 {
            san_names(contents, &mut upn, &mut email)?;
        }
        rest = next;
    }
    if let Some(name) = upn.as_deref().and_then(local_part) {
        return Ok((name, NameSource::Upn));
    }
    if let Some(name) = email.as_deref().and_then(local_part) {
        return Ok((name, NameSource::Email));
    }
    common_name(subject)?
        .map(|cn| (cn, NameSource::CommonName))
        .ok_or(X509Error::NoName)
}

fn common_name(mut subject: &[u8]) -> Result<Option<String>, X509Error> {
    while !subject.is_empty() {
        let (mut set, next) = expect(subject, SET)?;
        while !set.is_empty() {
            let (attr, more) = expect(set, SEQUENCE)?;
            let (oid, value) = expect(attr, OID)?;
            if oid == OID_CN {
                let (_, text, _) = element(value)?;
                let cn = std::str::from_utf8(text).map_err(|_| X509Error::Malformed)?;
                return Ok((!cn.is_empty()).then(|| cn.to_string()));
            }
            set = more;
        }
        subject = next;
    }
    Ok(None)
}

fn san_names(
    extensions: &[u8],
    upn: &mut Option<String>,
    email: &mut Option<String>,
) -> Result<(), X509Error> {
    let (mut list, _) = expect(extensions, SEQUENCE)?;
    while !list.is_empty() {
        let (ext, next) = expect(list, SEQUENCE)?;
        let (oid, mut rest) = expect(ext, OID)?;
        if oid == OID_SAN {
            if rest.first() == Some(&0x01) {
                rest = element(rest)?.2;
            }
            let (octets, _) = expect(rest, 0x04)?;
            let (mut names, _) = expect(octets, SEQUENCE)?;
            while !names.is_empty() {
                let (tag, contents, more) = element(names)?;
                match tag {
                    SAN_RFC822 if email.is_none() => {
                        let text =
                            std::str::from_utf8(contents).map_err(|_| X509Error::Malformed)?;
                        *email = Some(text.to_string());
                    }
                    SAN_OTHER_NAME if upn.is_none() => {
                        let (oid, value) = expect(contents, OID)?;
                        if oid == OID_UPN {
                            let (inner, _) = expect(value, EXPLICIT_0)?;
                            let (_, text, _) = element(inner)?;
                            let text =
                                std::str::from_utf8(text).map_err(|_| X509Error::Malformed)?;
                            *upn = Some(text.to_string());
                        }
                    }
                    _ => {}
                }
                names = more;
            }
        }
        list = next;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::eap::testing::pki;
    use proptest::prelude::*;
    use rcgen::SanType;

    fn name_of(cn: &str, sans: Vec<SanType>) -> Result<(String, NameSource), X509Error> {
        let pki = pki(cn, sans);
        user_name(&pki.client_chain[0])
    }

    #[test]
    fn prefers_upn_then_email_then_cn() {
        let upn = SanType::OtherName((
            vec![1, 3, 6, 1, 4, 1, 311, 20, 2, 3],
            "max.muster@schule.example".into(),
        ));
        let email = SanType::Rfc822Name("anna.b@schule.example".try_into().unwrap());
        assert_eq!(
            name_of("Max Muster", vec![email.clone(), upn]).unwrap(),
            ("max.muster".to_string(), NameSource::Upn)
        );
        assert_eq!(
            name_of("Anna", vec![email]).unwrap(),
            ("anna.b".to_string(), NameSource::Email)
        );
        assert_eq!(
            name_of("tim", vec![]).unwrap(),
            ("tim".to_string(), NameSource::CommonName)
        );
    }

    #[test]
    fn refuses_garbage() {
        assert_eq!(user_name(&[]), Err(X509Error::Malformed));
        assert_eq!(
            user_name(&[0x30, 0x84, 0, 0, 0, 1]),
            Err(X509Error::Malformed)
        );
        let pki = pki("anna", vec![]);
        let der = pki.client_chain[0].to_vec();
        assert_eq!(user_name(&der[..der.len() / 2]), Err(X509Error::Malformed));
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = user_name(&data);
        }
    }
}
