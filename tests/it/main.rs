//! hallpass integration tests: the real binary, started on port 0 with a temporary config
//! directory, driven by real peers (FreeRADIUS's radclient) and by hand-made packets checked
//! against the RFCs with md-5/hmac directly (never with hallpass's own codec).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity
)]

mod acct;
mod auth;
mod check_warnings;
mod cli;
mod dhcp_capture;
mod dhcp_forgery;
mod dhcp_watch;
mod docs;
mod eap;
mod eap_8021x;
mod eap_cli;
mod eap_profile;
mod eap_refusals;
mod edit_private;
mod enrol;
mod example;
mod faults;
mod flood_sources;
mod guessing;
mod harness;
mod journal_privacy;
mod metrics;
mod metrics_idle;
mod privacy;
mod wire;
