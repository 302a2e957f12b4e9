//! hallpass: the network daemon of a school's server. Answers RADIUS Access-Requests from
//! the school's own records (registered devices, consent, per-module bans), logs every
//! decision, and watches DHCP.
//!
//! Layering (arrows point down only): `cli`, `daemon` → `server` → `policy`, `radius`,
//! `store`, `config` → `model`, `sched`, `accounts`. The pure modules (`radius`, `policy`, `config`,
//! `model`) do no network I/O, start no tasks and never read the clock.

pub mod accounts;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod dhcp;
pub mod model;
pub mod policy;
pub mod radius;
pub mod sched;
pub mod server;
pub mod store;
