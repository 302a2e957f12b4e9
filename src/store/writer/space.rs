//! The size guard of the state directory: when the filesystem holding the database runs
//! short of free space, or the database reaches its configured cap, new DHCP sightings are
//! refused (counted) until there is room again. Accounting records and the auth log are
//! never refused for space: the first are promised durable, the second is the record of
//! who was let in, and both grow only with the NAS's requests, not with what anyone on the
//! network sends.
//!
//! The decision is a pure function of the limits and one reading; reading the filesystem
//! (`statvfs`) and the database's page counts happens here too, on the writer's timer.
//! Must not: refuse anything but sightings, or log more than once per change.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rusqlite::Connection;

/// When sightings are refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpaceLimits {
    /// Refuse sightings while the state directory's filesystem has less than this free
    /// (bytes, as an unprivileged process may use them).
    pub min_free: u64,
    /// Refuse sightings while the database's pages in use take more than this (bytes);
    /// `None`: no cap but the free space.
    pub max_database: Option<u64>,
}

/// What the writer measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct SpaceReading {
    /// Bytes free on the state directory's filesystem.
    pub free: u64,
    /// Bytes of the database's pages in use (the free list, which new rows reuse, is not
    /// counted, so rows deleted by retention make room again).
    pub database: u64,
}

/// Whether sightings are refused after `reading`, given whether they were before. Once
/// refused, they stay refused until the room is back by a sixteenth of the limit, so that
/// a database hovering at its limit does not switch (and log) at every reading.
pub(super) fn space_low(limits: SpaceLimits, reading: SpaceReading, was_low: bool) -> bool {
    let margin = |x: u64| if was_low { x / 16 } else { 0 };
    let free_low = reading.free < limits.min_free.saturating_add(margin(limits.min_free));
    let db_full = limits
        .max_database
        .is_some_and(|cap| reading.database.saturating_add(margin(cap)) > cap);
    free_low || db_full
}

/// Why the space could not be read.
#[derive(Debug, thiserror::Error)]
pub(super) enum SpaceError {
    #[error("cannot read the free space of {path}: {source}")]
    Statvfs {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot read the database's size: {0}")]
    Pages(#[from] rusqlite::Error),
}

/// Reads the free space of the filesystem holding `dir` and the size of the database.
pub(super) fn read_space(conn: &Connection, dir: &Path) -> Result<SpaceReading, SpaceError> {
    Ok(SpaceReading {
        free: free_bytes(dir)?,
        database: database_bytes(conn)?,
    })
}

fn database_bytes(conn: &Connection) -> rusqlite::Result<u64> {
    let pragma = |name: &str| conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get::<_, i64>(0));
    let pages = pragma("page_count")?.saturating_sub(pragma("freelist_count")?);
    let size = pragma("page_size")?;
    Ok(u64::try_from(pages.saturating_mul(size)).unwrap_or(0))
}

fn free_bytes(dir: &Path) -> Result<u64, SpaceError> {
    let err = |source| SpaceError::Statvfs {
        path: dir.display().to_string(),
        source,
    };
    let c_path = CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| err(std::io::Error::from_raw_os_error(libc::EINVAL)))?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    #[allow(unsafe_code)]
    // SAFETY: `c_path` is a NUL-terminated string that outlives the call, and `st` points
    // to writable memory of the size statvfs fills.
    let rc = unsafe { libc::statvfs(c_path.as_ptr(), st.as_mut_ptr()) };
    if rc != 0 {
        return Err(err(std::io::Error::last_os_error()));
    }
    #[allow(unsafe_code)]
    // SAFETY: statvfs returned 0, so it filled the whole struct (which started zeroed).
    let st = unsafe { st.assume_init() };
    #[allow(clippy::useless_conversion)] // the field types differ between platforms
    let free = u64::from(st.f_bavail).saturating_mul(u64::from(st.f_frsize));
    Ok(free)
}
