//! Pure EAP: no I/O, no clock, no tasks. Bytes in, bytes out; time and randomness are
//! parameters.

pub mod certs;
pub mod mschapv2;
