//! Human-readable rendering of a packet's attributes for logs and debugging.
//!
//! Secret values (User-Password, CHAP-Password, Tunnel-Password, ARAP-Password,
//! Message-Authenticator) are never rendered: they show as `<hidden>`.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::dictionary::{ValueKind, attribute_def, is_secret, value_name};
use super::packet::{tagged_u24, tunnel_private_group_id, vendor_specific};
use super::{Attribute, Packet};

/// Displays the attributes of a packet as `Name=value, Name=value`, without allocating.
///
/// Text is quoted and escaped; integers show their value name when known, e.g.
/// `NAS-Port-Type=Wireless-802.11(19)`; tagged values show `tag:value`; unknown types show
/// as `Attr-N=0x…`; values that do not fit their kind show as hex.
#[derive(Clone, Copy)]
pub struct DisplayAttributes<'a>(pub Packet<'a>);

impl fmt::Display for DisplayAttributes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.0.attributes().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write_attribute(f, a)?;
        }
        Ok(())
    }
}

/// Renders the attributes of a packet as one line; see [`DisplayAttributes`].
pub fn attributes_to_text(p: &Packet) -> String {
    DisplayAttributes(*p).to_string()
}

fn write_attribute(f: &mut fmt::Formatter<'_>, a: Attribute<'_>) -> fmt::Result {
    let Some(def) = attribute_def(a.typ) else {
        write!(f, "Attr-{}=", a.typ)?;
        return write_hex(f, a.value);
    };
    write!(f, "{}=", def.name)?;
    if is_secret(a.typ) {
        return f.write_str("<hidden>");
    }
    let v = a.value;
    match def.kind {
        ValueKind::Text => write_text(f, v),
        ValueKind::String => write_hex(f, v),
        ValueKind::Integer | ValueKind::Time => match <[u8; 4]>::try_from(v) {
            Ok(b) => write_integer(f, a.typ, u32::from_be_bytes(b)),
            Err(_) => write_hex(f, v),
        },
        ValueKind::Address => match <[u8; 4]>::try_from(v) {
            Ok(b) => write!(f, "{}", Ipv4Addr::from(b)),
            Err(_) => write_hex(f, v),
        },
        ValueKind::Ipv6Address => match <[u8; 16]>::try_from(v) {
            Ok(b) => write!(f, "{}", Ipv6Addr::from(b)),
            Err(_) => write_hex(f, v),
        },
        ValueKind::Ipv6Prefix => match v {
            [0, bits, prefix @ ..] if prefix.len() <= 16 && usize::from(*bits) <= 128 => {
                let mut full = [0u8; 16];
                full.iter_mut().zip(prefix).for_each(|(d, s)| *d = *s);
                write!(f, "{}/{}", Ipv6Addr::from(full), bits)
            }
            _ => write_hex(f, v),
        },
        ValueKind::InterfaceId | ValueKind::TaggedPassword => write_hex(f, v),
        ValueKind::TaggedInteger => match tagged_u24(v) {
            Some((tag, n)) => {
                write!(f, "{tag}:")?;
                write_integer(f, a.typ, n)
            }
            None => write_hex(f, v),
        },
        ValueKind::TaggedString => {
            let (tag, rest) = tunnel_private_group_id(v);
            if let Some(tag) = tag {
                write!(f, "{tag}:")?;
            }
            write_text(f, rest)
        }
        ValueKind::VendorSpecific => match vendor_specific(v) {
            Some((vendor, data)) => {
                write!(f, "{vendor}:")?;
                write_hex(f, data)
            }
            None => write_hex(f, v),
        },
    }
}

fn write_integer(f: &mut fmt::Formatter<'_>, typ: u8, n: u32) -> fmt::Result {
    match value_name(typ, n) {
        Some(name) => write!(f, "{name}({n})"),
        None => write!(f, "{n}"),
    }
}

/// Quoted and escaped if UTF-8, hex otherwise.
fn write_text(f: &mut fmt::Formatter<'_>, v: &[u8]) -> fmt::Result {
    match std::str::from_utf8(v) {
        Ok(s) => write!(f, "{s:?}"),
        Err(_) => write_hex(f, v),
    }
}

fn write_hex(f: &mut fmt::Formatter<'_>, v: &[u8]) -> fmt::Result {
    f.write_str("0x")?;
    for b in v {
        write!(f, "{b:02x}")?;
    }
    Ok(())
}
