//! cli

pub mod args;
pub mod generate;
