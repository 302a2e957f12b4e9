//! The shipped example config keeps the README's quick start promises: Anna's laptop is
//! accepted into VLAN 30 and Max's iPhone is rejected with the Reply-Message the README
//! quotes, today and a year from today (`hallpass why --at`), so an example date that runs
//! out fails the suite a year before a reader would meet it.

use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const ANNA_LAPTOP: &str = "f0:18:98:ab:cd:ef";
const MAX_IPHONE: &str = "3c:22:fb:12:34:56";

/// `hallpass why` on the shipped config at `at`; its output, which must end in a decision.
fn why(mac: &str, at: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .args(["why", "--config"])
        .arg(Path::new(ROOT).join("config"))
        .args(["--mac", mac, "--at", at])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "why {mac} --at {at}: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// The README's quick start section: from its heading to the next `## `.
fn quick_start() -> String {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let start = readme
        .find("\n## Quick start")
        .expect("README has a Quick start");
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |e| e + 3);
    rest[..end].to_string()
}

/// The Reply-Message the quick start promises for Max's iPhone.
fn promised_ban_message(quick_start: &str) -> String {
    let after = quick_start
        .split_once("Access-Reject with \"")
        .expect("the quick start quotes the ban's Reply-Message")
        .1;
    after.split('"').next().unwrap().replace('\n', " ")
}

/// Now and a year from now, to the second, in UTC (what `--at` takes as RFC 3339).
fn moments() -> [String; 2] {
    let now = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).unwrap();
    let zoned = now.to_zoned_datetime(jiff::tz::TimeZone::UTC);
    let later = zoned.checked_add(jiff::Span::new().years(1)).unwrap();
    [now.to_string(), later.timestamp().to_string()]
}

#[test]
fn the_quick_start_promises_hold_now_and_in_a_year() {
    let qs = quick_start();
    for promise in [
        "cargo run --release -- serve --config config",
        "scripts/test.sh",
        "f0-18-98-ab-cd-ef",
        "3c-22-fb-12-34-56",
        "Access-Accept into VLAN 30",
    ] {
        assert!(qs.contains(promise), "the quick start says {promise:?}");
    }
    let message = promised_ban_message(&qs);
    for at in moments() {
        let anna = why(ANNA_LAPTOP, &at);
        assert!(
            anna.contains("=> accept (accepted) on wifi: VLAN 30"),
            "Anna's laptop at {at}:\n{anna}"
        );
        let max = why(MAX_IPHONE, &at);
        assert!(
            max.contains("=> reject (banned) on wifi"),
            "Max's iPhone at {at}:\n{max}"
        );
        assert!(
            max.contains(&format!("Reply-Message: {message}\n")),
            "Max's iPhone at {at} gets the message the README promises ({message:?}):\n{max}"
        );
    }
}
