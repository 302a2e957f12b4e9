//! Config files → a validated `Directory` snapshot. Wire types (serde, unknown keys rejected)
//! first, then validation that reports every error with file, line and column.

mod directory;

pub use directory::*;
