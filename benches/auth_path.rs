//! The full per-request path of a MAB Access-Request without sockets: decode, verify the
//! Message-Authenticator, decide, encode, sign — against a directory of 100k registered
//! devices. Run: `cargo bench --bench auth_path`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hallpass::config::{
    Client, DhcpSettings, Directory, Map, PolicyGroup, PolicySettings, PrivacySettings,
    RadiusSettings, Registry, ServerSettings,
};
use hallpass::model::{Ban, BanTarget, Device, Language, MacAddr, Module, ModuleSet, User, Vlan};
use hallpass::radius::{self, Code, Packet, PacketBuilder, SharedSecret, attr};
use hallpass::server::auth::respond;

const SECRET_BYTES: &[u8] = b"bench-secret-0123456789";
static SECRET: std::sync::LazyLock<SharedSecret> =
    std::sync::LazyLock::new(|| SharedSecret::new(SECRET_BYTES.to_vec()));
const DEVICES: u32 = 100_000;

fn mac(i: u32) -> MacAddr {
    let b = i.to_be_bytes();
    MacAddr([0x3c, 0x22, b[0], b[1], b[2], b[3]])
}

fn directory() -> Directory {
    let mut users = Vec::new();
    let mut devices = Vec::new();
    let mut user_bans: Map<Arc<str>, Vec<Ban>> = Map::default();
    for i in 0..DEVICES / 2 {
        let name: Arc<str> = Arc::from(format!("student.{i:06}"));
        users.push(User {
            name: name.clone(),
            groups: vec!["students".into(), format!("class{}", i % 40)],
            consent: true,
            disabled: false,
            password_hash: None,
            nt_hash: None,
        });
        for d in 0..2 {
            let m = mac(i * 2 + d);
            devices.push(Device {
                mac: m,
                owner: name.clone(),
                label: None,
                registered: None,
            });
        }
        if i % 50 == 0 {
            user_bans.entry(name.clone()).or_default().push(Ban {
                target: BanTarget::User(name.clone()),
                modules: ModuleSet {
                    wifi: true,
                    ..Default::default()
                },
                from: None,
                until: Some("2099-01-01T00:00:00Z".parse().unwrap()),
                reason: "bench".into(),
                by: None,
            });
        }
    }
    let policy = PolicySettings {
        max_devices_per_user: 5,
        session_timeout_secs: 43_200,
        unregistered_vlan: None,
        device_expiry_secs: None,
        groups: vec![
            PolicyGroup {
                name: "teachers".into(),
                vlan: Vlan::new(30).unwrap(),
                filter_id: None,
                access: Default::default(),
                schedule: None,
                daily_quota: None,
            },
            PolicyGroup {
                name: "students".into(),
                vlan: Vlan::new(20).unwrap(),
                filter_id: Some("students".into()),
                access: Default::default(),
                schedule: None,
                daily_quota: None,
            },
        ],
    };
    let registry = Registry::new(users, devices, &policy.groups);
    Directory {
        config_dir: ".".into(),
        server: ServerSettings {
            state_dir: ".".into(),
            timezone: jiff::tz::TimeZone::get("Europe/Berlin").unwrap(),
            language: Language::De,
            metrics_listen: None,
            min_free_space: 0,
            max_database_size: None,
            failed_logins_warning: 10,
            failed_logins_slowdown: 5,
        },
        radius: RadiusSettings {
            auth_listen: vec![],
            acct_listen: vec![],
            clients: vec![client()],
        },
        dhcp: DhcpSettings::default(),
        policy,
        eap: None,
        privacy: PrivacySettings { retention_days: 30 },
        registry,
        user_bans,
        device_bans: Map::default(),
        user_grants: Map::default(),
        group_grants: Map::default(),
        warnings: Vec::new(),
    }
}

fn client() -> Client {
    Client {
        name: "bench-nas".into(),
        network: "127.0.0.1/32".parse().unwrap(),
        secret: SECRET.clone(),
        module: Module::Wifi,
        require_message_authenticator: true,
        coa_port: 3799,
    }
}

/// MAB requests as an access point sends them: User-Name, User-Password, Calling-Station-Id,
/// NAS-Port-Type Wireless-802.11 and a Message-Authenticator.
fn requests(n: u32) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let m = mac((i * 7919) % DEVICES);
            let name = m.to_string().replace(':', "-");
            let auth: [u8; 16] = rand::random();
            let mut hidden = Vec::new();
            radius::hide_password(name.as_bytes(), &SECRET, &auth, &mut hidden).unwrap();
            let mut out = Vec::new();
            let mut b = PacketBuilder::new(&mut out, Code::AccessRequest, i as u8);
            b.message_authenticator();
            b.attr(attr::USER_NAME, name.as_bytes()).unwrap();
            b.attr(attr::USER_PASSWORD, &hidden).unwrap();
            b.attr(attr::CALLING_STATION_ID, name.to_uppercase().as_bytes())
                .unwrap();
            b.attr_u32(attr::NAS_PORT_TYPE, 19).unwrap();
            b.attr(attr::CALLED_STATION_ID, b"00-11-22-33-44-55:Schule")
                .unwrap();
            b.finish_access_request(&auth, &SECRET).unwrap();
            out
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let dir = directory();
    let client = client();
    let reqs = requests(4096);
    let now: jiff::Timestamp = "2026-11-27T08:00:00Z".parse().unwrap();
    let mut out = Vec::with_capacity(4096);
    let mut i = 0usize;
    let mut g = c.benchmark_group("auth_path");
    g.throughput(Throughput::Elements(1));
    g.bench_function("mab_100k_devices", |b| {
        b.iter(|| {
            let bytes = &reqs[i % reqs.len()];
            i += 1;
            let p = Packet::parse(black_box(bytes)).unwrap();
            let ma = radius::verify_message_authenticator(&p, &SECRET, None).unwrap();
            assert_eq!(ma, radius::MessageAuthenticator::Valid);
            let d = respond(&p, None, &dir, &client, Default::default(), now, &mut out).unwrap();
            black_box((d, out.len()))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
