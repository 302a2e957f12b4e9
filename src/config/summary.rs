//! A short human summary of a loaded config, for `hallpass check`. Counts and settings only:
//! never a secret, never personal data beyond counts.

use std::fmt::Write as _;

use super::directory::{Directory, EapSettings, PolicyGroup, UnregisteredDevices};
use crate::eap::Method;
use crate::model::{Access, Language};

/// Counts of users, devices, bans and grants, the clients (name, network, module; never the
/// secret), listen addresses, policy groups, the DHCP watcher, the retention and `[eap]`.
pub fn check_summary(dir: &Directory) -> String {
    let mut s = String::new();
    let users = dir.users().len();
    let disabled = dir.users().filter(|u| u.disabled).count();
    let no_consent = dir.users().filter(|u| !u.consent).count();
    let user_bans: usize = dir.user_bans.values().map(Vec::len).sum();
    let device_bans: usize = dir.device_bans.values().map(Vec::len).sum();
    let join = |v: &[std::net::SocketAddr]| {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(s, "config:     {}", dir.config_dir.display());
    let _ = writeln!(s, "state dir:  {}", dir.server.state_dir.display());
    let _ = writeln!(
        s,
        "time zone:  {}, language: {}",
        dir.server.timezone.iana_name().unwrap_or("(fixed offset)"),
        match dir.server.language {
            Language::De => "de",
            Language::En => "en",
        }
    );
    let _ = writeln!(
        s,
        "users:      {users} ({disabled} disabled, {no_consent} without consent)"
    );
    let _ = writeln!(s, "devices:    {}", dir.devices().len());
    let _ = writeln!(
        s,
        "bans:       {} ({user_bans} on users, {device_bans} on devices)",
        user_bans + device_bans
    );
    let user_grants: usize = dir.user_grants.values().map(Vec::len).sum();
    let group_grants: usize = dir.group_grants.values().map(Vec::len).sum();
    let _ = writeln!(
        s,
        "grants:     {} ({user_grants} for users, {group_grants} for groups)",
        user_grants + group_grants
    );
    let _ = writeln!(s, "auth:       {}", join(&dir.radius.auth_listen));
    let _ = writeln!(s, "accounting: {}", join(&dir.radius.acct_listen));
    let _ = writeln!(s, "clients:    {}", dir.radius.clients.len());
    for c in &dir.radius.clients {
        let _ = writeln!(s, "  {} {} ({})", c.name, c.network, c.module);
    }
    let _ = writeln!(
        s,
        "policy:     at most {} devices per user, sessions up to {} s, unregistered devices: {}",
        dir.policy.max_devices_per_user,
        dir.policy.session_timeout_secs,
        dir.policy
            .unregistered_vlan
            .map_or("rejected".to_string(), |v| format!("VLAN {v}"))
    );
    if let Some(secs) = dir.policy.device_expiry_secs {
        let _ = writeln!(
            s,
            "  devices expire when not accepted for {} days",
            f64::from(secs) / 86_400.0
        );
    }
    for g in &dir.policy.groups {
        let _ = writeln!(s, "  group {}", group_line(g));
    }
    if dir.dhcp.interfaces.is_empty() {
        let _ = writeln!(s, "dhcp:       watcher off");
    } else {
        let _ = writeln!(
            s,
            "dhcp:       watching {} ({} trusted servers)",
            dir.dhcp.interfaces.join(", "),
            dir.dhcp.trusted_servers.len()
        );
    }
    let _ = writeln!(s, "retention:  {} days", dir.privacy.retention_days);
    match &dir.eap {
        None => {
            let _ = write!(s, "eap:        off (no [eap])");
        }
        Some(eap) => eap_lines(&mut s, dir, eap),
    }
    s
}

/// The `[eap]` lines: methods, the certificate (subject, SANs, expiry, with a warning 30
/// days ahead), and for PEAP how many accounts lack the NT hash MSCHAPv2 needs.
fn eap_lines(s: &mut String, dir: &Directory, eap: &EapSettings) {
    let methods: Vec<&str> = eap
        .session
        .methods
        .iter()
        .map(|m| match m {
            Method::Peap => "peap",
            Method::Ttls => "ttls",
            Method::Tls => "tls",
        })
        .collect();
    let _ = writeln!(
        s,
        "eap:        {} (unregistered devices: {}, at most {} conversations)",
        methods.join(", "),
        match eap.unregistered_devices {
            UnregisteredDevices::Reject => "rejected",
            UnregisteredDevices::Allow => "allowed",
            UnregisteredDevices::Enrol => "enrolled at their first login",
        },
        eap.max_conversations
    );
    let cert = &eap.certificate;
    let _ = writeln!(
        s,
        "  certificate {}: {}",
        eap.certificate_file.display(),
        cert.subject
    );
    let _ = writeln!(s, "  names:     {}", cert.dns_names.join(", "));
    let _ = write!(s, "  expires:   {}", cert.not_after);
    if cert.expires_soon {
        let _ = write!(
            s,
            "\n  WARNING:   the certificate expires in less than 30 days: renew it, or every 802.1X login fails after {}",
            cert.not_after
        );
    }
    for ca in &cert.client_ca_subjects {
        let _ = write!(s, "\n  client CA: {ca}");
    }
    if eap.session.methods.contains(&Method::Peap) {
        let lacking = dir.users().filter(|u| u.nt_hash.is_none()).count();
        let _ = write!(
            s,
            "\n  PEAP needs `nt_hash` per user (MSCHAPv2 cannot work from the argon2 password): {lacking} of {} users have none",
            dir.users().len()
        );
    }
}

/// `guests -> VLAN 40, only with a grant, schedule Mon-Fri 07:30-16:00, daily quota
/// 1000000000 bytes`.
fn group_line(g: &PolicyGroup) -> String {
    let mut line = format!("{} -> VLAN {}", g.name, g.vlan);
    if let Some(f) = &g.filter_id {
        let _ = write!(line, ", Filter-Id {f}");
    }
    if g.access == Access::Grant {
        line.push_str(", only with a grant");
    }
    if let Some(sch) = &g.schedule {
        let windows: Vec<String> = sch.0.iter().map(ToString::to_string).collect();
        let _ = write!(line, ", schedule {}", windows.join(", "));
    }
    if let Some(q) = g.daily_quota {
        let _ = write!(line, ", daily quota {q} bytes");
    }
    line
}
