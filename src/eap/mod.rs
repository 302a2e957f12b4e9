//! Pure EAP for 802.1X with school accounts: PEAPv0 with inner EAP-MSCHAPv2, EAP-TTLS with
//! inner PAP and EAP-TLS, carried in RADIUS (RFC 3579).
//!
//! What it owns: the EAP packet codec, EAP-Message joining and splitting, the framing of
//! the TLS-based methods, the TLS server driven on in-memory buffers, key export (MSK and
//! the MPPE keys), the conversation table, and the method state machines.
//!
//! What it must not do: touch sockets, read the clock (time is a parameter), start tasks
//! or threads, look up accounts or check passwords. Credentials are checked by the caller
//! when a machine asks for it (argon2 runs on the server's worker pool).

pub mod attr;
pub mod fragment;
pub mod packet;
