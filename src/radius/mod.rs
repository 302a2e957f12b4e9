//! The RADIUS codec: decoding, verifying and encoding RADIUS packets. Pure: no sockets, no
//! tasks, no clock, and no allocation per packet on the hot path (decoding borrows the
//! datagram, encoding writes into a reused caller buffer).
//!
//! What it owns:
//! - [`Packet`]: a validated, borrowed view over one datagram (RFC 2865 section 3: header,
//!   Length, padding; section 5: attribute layout). [`Code`] lists the codes of RFC 2865,
//!   RFC 2866 (accounting), RFC 5997 (Status-Server) and RFC 5176 (Disconnect/CoA).
//! - [`PacketBuilder`]: writes replies and requests, with the Message-Authenticator as the
//!   first attribute (RFC 3579 section 3.2; BlastRADIUS, CVE-2024-3596) and the Response
//!   Authenticator (RFC 2865 section 3) or computed Request Authenticator (RFC 2866 section
//!   3, RFC 5176 section 2.3).
//! - Verification: [`verify_message_authenticator`] (RFC 3579 section 3.2, RFC 5176
//!   section 3.3, RFC 5997), [`verify_request_authenticator`],
//!   [`verify_response_authenticator`]; all compares are constant-time.
//! - User-Password hiding (RFC 2865 section 5.2): [`hide_password`], [`unhide_password`],
//!   [`unhide_password_into`] (no allocation), [`password_matches`]; CHAP (RFC 2865
//!   section 5.3): [`verify_chap_password`], [`chap_challenge`].
//! - The dictionary ([`attr`], [`values`], [`attribute_name`]) including the tagged tunnel
//!   attributes of RFC 2868 (VLAN assignment per RFC 3580 section 3.31), and
//!   [`attributes_to_text`] for logs, which never prints secret values.
//!
//! What it must not do: touch sockets or the clock, decide policy (whether a missing
//! Message-Authenticator is acceptable is the server's call), or keep state between
//! packets. Duplicate detection and retransmission handling (RFC 5080 section 2.2) belong
//! to the server.

mod auth;
mod builder;
mod code;
mod dictionary;
mod error;
mod mppe;
mod packet;
mod text;

#[cfg(test)]
mod tests;

pub use auth::{
    MAX_PASSWORD_LEN, MessageAuthenticator, SharedSecret, chap_challenge, hide_password, is_reply,
    password_matches, unhide_password, unhide_password_into, verify_chap_password,
    verify_message_authenticator, verify_request_authenticator, verify_response_authenticator,
};
pub use builder::PacketBuilder;
pub use code::Code;
pub use dictionary::{
    ATTRIBUTES, AttributeDef, ValueKind, attr, attribute_def, attribute_kind, attribute_name,
    is_secret, value_name, values,
};
pub use error::RadiusError;
pub use mppe::{
    MPPE_MAX_KEY_LEN, MS_MPPE_RECV_KEY, MS_MPPE_SEND_KEY, MppeError, VENDOR_MICROSOFT,
    add_mppe_keys, add_msk, decode_mppe_key_attribute, decrypt_mppe_key, encrypt_mppe_key,
    mppe_key_attribute, mppe_salts, vendor_specific_value,
};
pub use packet::{
    Attribute, Attributes, HEADER_LEN, MAX_PACKET_LEN, MAX_VALUE_LEN, Packet, tagged_u24,
    tunnel_private_group_id, vendor_specific,
};
pub use text::{DisplayAttributes, attributes_to_text};
