//! The system's accounts as hallpass needs them: this process's real and effective uid, the
//! login uid the kernel keeps for the session (`/proc/self/loginuid`), and the mapping
//! between uids and account names through the C library (so NSS sources such as LDAP
//! count, not only `/etc/passwd`).
//!
//! Must not: trust the environment (`SUDO_USER`, `USER`): any caller can set it. The one
//! place that reads `SUDO_USER` (the CLI's audit rows) records it only beside the account
//! found here.

use std::ffi::{CStr, CString};

/// The account the daemon runs as (systemd `User=hallpass`, created by sysusers.d): its
/// state directory and database belong to it.
pub const DAEMON_ACCOUNT: &str = "hallpass";

/// `/proc/self/loginuid` when the kernel never set it (no login session, e.g. a container).
const LOGINUID_UNSET: u32 = u32::MAX;

/// The real uid of this process (who started it, also under setuid).
pub fn real_uid() -> u32 {
    #[allow(unsafe_code)]
    // SAFETY: getuid takes no arguments, cannot fail and touches no memory of ours.
    unsafe {
        libc::getuid()
    }
}

/// The effective uid of this process (whose rights it has, e.g. root under sudo).
pub fn effective_uid() -> u32 {
    #[allow(unsafe_code)]
    // SAFETY: geteuid takes no arguments, cannot fail and touches no memory of ours.
    unsafe {
        libc::geteuid()
    }
}

/// The uid the person logged in with, kept by the kernel across sudo and su and not
/// changeable by an unprivileged process: `None` when unset or unreadable.
pub fn login_uid() -> Option<u32> {
    let text = std::fs::read_to_string("/proc/self/loginuid").ok()?;
    parse_login_uid(&text)
}

fn parse_login_uid(text: &str) -> Option<u32> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|&u| u != LOGINUID_UNSET)
}

/// Who runs this process, as an account name: the login uid's account, else the real uid's;
/// `uid N` when the uid has no name.
pub fn acting_account() -> String {
    let uid = login_uid().unwrap_or_else(real_uid);
    name_of(uid).unwrap_or_else(|| format!("uid {uid}"))
}

/// Room for one passwd entry's strings; grown when the C library asks for more.
const FIRST_BUF: usize = 1024;
const MAX_BUF: usize = 1 << 20;

/// One passwd lookup with the C library's reentrant calls: `call` fills the entry from the
/// buffer it is given (as `getpwuid_r`/`getpwnam_r` do), the buffer grows while the library
/// asks for more (ERANGE, up to 1 MiB), and `read` takes what is needed from the entry while
/// the buffer its strings point into is alive.
fn lookup<T>(
    mut call: impl FnMut(
        *mut libc::passwd,
        *mut libc::c_char,
        usize,
        *mut *mut libc::passwd,
    ) -> libc::c_int,
    read: impl FnOnce(&libc::passwd) -> Option<T>,
) -> Option<T> {
    let mut buf = vec![0 as libc::c_char; FIRST_BUF];
    loop {
        let mut pwd = std::mem::MaybeUninit::<libc::passwd>::zeroed();
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        let rc = call(pwd.as_mut_ptr(), buf.as_mut_ptr(), buf.len(), &mut found);
        if rc == libc::ERANGE && buf.len() < MAX_BUF {
            buf.resize(buf.len() * 2, 0);
            continue;
        }
        if rc != 0 || found.is_null() {
            return None;
        }
        #[allow(unsafe_code)]
        // SAFETY: rc == 0 and a non-null result mean the call filled `pwd`.
        let pwd = unsafe { pwd.assume_init() };
        return read(&pwd);
    }
}

/// The name of account `uid`, if it has one.
pub fn name_of(uid: u32) -> Option<String> {
    lookup(
        |pwd, buf, len, found| {
            #[allow(unsafe_code)]
            // SAFETY: `pwd` is a zeroed passwd the function fills, `buf` is writable for
            // `len` bytes, `found` is an out-pointer; all outlive the call (see `lookup`).
            unsafe {
                libc::getpwuid_r(uid, pwd, buf, len, found)
            }
        },
        |pwd| {
            if pwd.pw_name.is_null() {
                return None;
            }
            #[allow(unsafe_code)]
            // SAFETY: pw_name points into `lookup`'s buffer, alive during `read`, and is
            // NUL-terminated.
            let name = unsafe { CStr::from_ptr(pwd.pw_name) };
            Some(name.to_string_lossy().into_owned())
        },
    )
}

/// The uid of the account `name`, if it exists.
pub fn uid_of(name: &str) -> Option<u32> {
    let cname = CString::new(name).ok()?;
    lookup(
        |pwd, buf, len, found| {
            #[allow(unsafe_code)]
            // SAFETY: `cname` is NUL-terminated and outlives the call; the other pointers
            // are valid as in `name_of`.
            unsafe {
                libc::getpwnam_r(cname.as_ptr(), pwd, buf, len, found)
            }
        },
        |pwd| Some(pwd.pw_uid),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn an_unset_login_uid_is_none() {
        assert_eq!(parse_login_uid("4294967295"), None);
        assert_eq!(parse_login_uid("1000\n"), Some(1000));
        assert_eq!(parse_login_uid("0"), Some(0));
        assert_eq!(parse_login_uid("x"), None);
    }

    #[test]
    fn root_is_uid_0_both_ways() {
        assert_eq!(name_of(0).as_deref(), Some("root"));
        assert_eq!(uid_of("root"), Some(0));
        assert_eq!(uid_of("no-such-account-hallpass-test"), None);
        assert_eq!(uid_of("nul\0in name"), None);
    }

    #[test]
    fn the_acting_account_ignores_the_environment() {
        let uid = login_uid().unwrap_or_else(real_uid);
        let expected = name_of(uid).unwrap_or_else(|| format!("uid {uid}"));
        // SUDO_USER/USER are not consulted at all: the result is what the uids say
        assert_eq!(acting_account(), expected);
        assert!(!expected.is_empty());
    }
}
