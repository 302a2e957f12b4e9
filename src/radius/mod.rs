//! radius
