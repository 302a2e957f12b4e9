//! Pure EAP for 802.1X with school accounts: PEAPv0 with inner EAP-MSCHAPv2, EAP-TTLS with
//! inner PAP and EAP-TLS, carried in RADIUS (RFC 3579).
//!
//! What it owns: the EAP packet codec, EAP-Message joining and splitting, the framing of
//! the TLS-based methods, the TLS server driven on in-memory buffers, key export (MSK and
//! the MPPE keys), the conversation table, the method state machines, MS-CHAPv2 (RFC 2759/3079), and
//! the certificates: made for a first try, checked when configured.
//!
//! What it must not do: touch sockets, read the clock (time is a parameter), start tasks
//! or threads, look up accounts or check passwords. Credentials are checked by the caller
//! when a machine asks for it (argon2 runs on the server's worker pool).
//!
//! How the server drives a conversation:
//! 1. At start-up: [`tls::server_config`] twice (without client certificates for PEAP and
//!    TTLS, with the client CA for EAP-TLS), then [`session::Settings::new`].
//! 2. An Access-Request with EAP-Message attributes: [`attr::join`] them. Without a State,
//!    a new [`session::Session`] (its fragment size from [`fragment::max_eap_packet`] and
//!    the request's Framed-MTU); with one, [`conversation::State::from_bytes`] and the
//!    session from the [`conversation::ConversationTable`] (key: the RADIUS client).
//! 3. [`session::Session::is_costly`] says whether the round belongs on the worker pool
//!    (TLS key exchange, a password hash) or may be answered at once;
//!    [`session::Session::receive`] the packet. `Err`: drop the request silently, the
//!    conversation stays. Otherwise a [`session::Step`]:
//!    - `Send(eap)`: an Access-Challenge with [`attr::split`]`(eap)` and the State (a new
//!      conversation goes into the table with `insert`, which makes the State);
//!    - `Check(..)`: check (PAP: argon2, on the worker pool; MSCHAPv2: the user's NT hash
//!      and [`peap::MsChapV2Check::verdict`]; EAP-TLS: the account named by the
//!      certificate), then [`session::Session::answer`] gives the next step;
//!    - `Done(Success)`: policy decides about the inner identity; an Access-Accept with
//!      the EAP-Success and the MPPE keys from [`tls::Msk`]; `Done(Failure)`: an
//!      Access-Reject with the EAP-Failure. Either way the conversation leaves the table.
//! 4. A timer at [`conversation::ConversationTable::next_deadline`] calls `expire(now)`.

pub mod attr;
pub mod certs;
pub mod conversation;
pub mod fragment;
pub mod mschapv2;
pub mod packet;
pub mod peap;
pub mod session;
pub mod tls;
pub mod ttls;
pub mod x509;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod testing;

pub use conversation::{ConversationTable, State};
pub use peap::{MsChapV2Check, MsChapV2Verifier};
pub use session::{CredentialCheck, Outcome, Session, SessionError, Settings, Step, Verdict};
pub use tls::{Msk, TlsVersion, server_config};

use packet::EapType;

/// The EAP methods hallpass offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// PEAPv0 with inner EAP-MSCHAPv2 ([MS-PEAP]).
    Peap,
    /// EAP-TTLS with inner PAP (RFC 5281).
    Ttls,
    /// EAP-TLS with a client certificate (RFC 5216, RFC 9190).
    Tls,
}

impl Method {
    pub fn eap_type(self) -> EapType {
        match self {
            Self::Peap => EapType::Peap,
            Self::Ttls => EapType::Ttls,
            Self::Tls => EapType::Tls,
        }
    }

    pub fn from_eap_type(kind: EapType) -> Option<Self> {
        match kind {
            EapType::Peap => Some(Self::Peap),
            EapType::Ttls => Some(Self::Ttls),
            EapType::Tls => Some(Self::Tls),
            _ => None,
        }
    }
}
