//! server

pub mod capture;
