//! hallpass: the network daemon of a school's server. Answers RADIUS Access-Requests from
//! the school's own records (registered devices, consent, per-module bans), logs every
//! decision, and watches DHCP.
//!
//! Layering: the arrows point down only, and nothing but `daemon` imports `server`.
//!
//! ```text
//! main     → cli, daemon
//! cli      → loadgen, control, accounts, policy, config, store, eap, radius, secret, model
//! daemon   → server, control, policy, config, eap, store
//! server   → mmsg, policy, eap, dhcp, radius, config, store, sched, model
//! loadgen  → mmsg, radius, secret, model     (a client with sockets of its own)
//! policy   → config, eap (the MS-CHAPv2 check), store (the accounting record, as a value), model
//! config   → eap (certificates, NT hashes), secret, model
//! store    → accounts (who owns a state file), sched, model
//! dhcp     → model
//! radius   → secret, model
//! model    → eap (the NT hash's type)
//! secret, eap, mmsg, control, accounts, sched: nothing of hallpass
//! ```
//!
//! The pure modules (`radius`, `eap`, `dhcp`, `policy`, `config`, `model`) do no network
//! I/O, start no tasks and never read the clock. The CLI finds the running daemon and asks
//! it to reload only through `control` (the pid file and SIGHUP).

pub mod accounts;
pub mod cli;
pub mod config;
pub mod control;
pub mod daemon;
pub mod dhcp;
pub mod eap;
pub mod loadgen;
mod mmsg;
pub mod model;
pub mod policy;
pub mod radius;
pub mod sched;
pub mod secret;
pub mod server;
pub mod store;
