//! Reply-Message texts: plain, kind words for students and parents, in German or English,
//! saying what happened and until when. Dates are shown in the school's time zone.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::{Decision, Outcome, Reason};
use crate::model::{Language, Module, Schedule, ScheduleWindow};

/// The longest Reply-Message: one RADIUS attribute.
const MAX_OCTETS: usize = 253;

/// The Reply-Message for a decision. Short enough for one RADIUS attribute (≤ 253 octets).
/// `bad_credentials` never says whether the name or the password was wrong.
pub fn reply_message(d: &Decision, lang: Language, tz: &TimeZone) -> String {
    use Language::{De, En};
    let accepted = matches!(d.outcome, Outcome::Accept { .. });
    match (d.reason, lang) {
        (Reason::Accepted, De) => "Willkommen im Schulnetz!".to_string(),
        (Reason::Accepted, En) => "Welcome to the school network!".to_string(),
        (Reason::NotRegistered, De) if accepted => {
            "Dieses Gerät ist nicht registriert, darum gibt es nur eingeschränkten Zugang. \
             Bitte das Gerät im Sekretariat registrieren lassen."
                .to_string()
        }
        (Reason::NotRegistered, En) if accepted => {
            "This device is not registered, so access is limited. \
             Please have it registered at the school office."
                .to_string()
        }
        (Reason::NotRegistered, De) => "Dieses Gerät ist nicht registriert. \
             Bitte das Gerät im Sekretariat registrieren lassen."
            .to_string(),
        (Reason::NotRegistered, En) => "This device is not registered. \
             Please have it registered at the school office."
            .to_string(),
        (Reason::MacMismatch, De) => "Die Anmeldung passt nicht zur Adresse des Geräts. \
             Bitte bei der Schul-IT melden."
            .to_string(),
        (Reason::MacMismatch, En) => "The sign-in does not match the device's address. \
             Please contact the school IT."
            .to_string(),
        (Reason::BadCredentials, De) => {
            "Benutzername oder Passwort ist falsch. Bitte noch einmal versuchen.".to_string()
        }
        (Reason::BadCredentials, En) => {
            "User name or password is wrong. Please try again.".to_string()
        }
        (Reason::DeviceBanned, _) => device_banned(d, lang, tz),
        (Reason::AccountDisabled, De) => {
            "Dieses Konto ist deaktiviert. Bitte im Sekretariat nachfragen.".to_string()
        }
        (Reason::AccountDisabled, En) => {
            "This account is disabled. Please ask at the school office.".to_string()
        }
        (Reason::NoConsent, De) => {
            "Keine Einwilligung hinterlegt – bitte die unterschriebene Einwilligung im \
             Sekretariat abgeben."
                .to_string()
        }
        (Reason::NoConsent, En) => {
            "No consent on file – please hand in the signed consent form at the school office."
                .to_string()
        }
        (Reason::Banned, _) => banned(d, lang, tz),
        (Reason::NoPolicy, De) => {
            "Für dieses Konto ist kein Netzzugang eingerichtet. Bitte bei der Schul-IT melden."
                .to_string()
        }
        (Reason::NoPolicy, En) => {
            "This account has no network access set up. Please contact the school IT.".to_string()
        }
        (Reason::OutsideSchedule, _) => outside_schedule(d, lang, tz),
        (Reason::NoGrant, De) => {
            let base = "Keine Freigabe durch eine Lehrkraft aktiv.";
            match d.until {
                Some(t) => format!("{base} Die nächste beginnt am {}.", when(t, lang, tz)),
                None => base.to_string(),
            }
        }
        (Reason::NoGrant, En) => {
            let base = "No teacher has granted access right now.";
            match d.until {
                Some(t) => format!("{base} The next grant begins {}.", when(t, lang, tz)),
                None => base.to_string(),
            }
        }
        (Reason::QuotaExceeded, De) => match d.until {
            Some(t) => format!("Tageskontingent aufgebraucht bis {}", clock(t, tz)),
            None => "Tageskontingent aufgebraucht".to_string(),
        },
        (Reason::QuotaExceeded, En) => match d.until {
            Some(t) => format!("Daily data quota used up until {}", clock(t, tz)),
            None => "Daily data quota used up".to_string(),
        },
        (Reason::Malformed, De) => {
            "Die Anmeldung war unvollständig. Bitte noch einmal versuchen.".to_string()
        }
        (Reason::Malformed, En) => "The sign-in was incomplete. Please try again.".to_string(),
        (Reason::DeviceOfOtherUser, De) => {
            "Dieses Gerät ist für ein anderes Konto registriert. Bitte mit dem eigenen Konto \
             anmelden oder im Sekretariat nachfragen."
                .to_string()
        }
        (Reason::EapFailed, De) => {
            "Die Anmeldung ist fehlgeschlagen (Zertifikat oder Verbindung). Bitte die \
             WLAN-Einstellungen prüfen oder bei der Schul-IT melden."
                .to_string()
        }
        (Reason::EapFailed, En) => {
            "The sign-in failed (certificate or connection). Please check the Wi-Fi \
             settings or contact the school IT."
                .to_string()
        }
        (Reason::Enrolled, De) => {
            "Willkommen im Schulnetz! Dieses Gerät ist jetzt für dein Konto registriert."
                .to_string()
        }
        (Reason::Enrolled, En) => {
            "Welcome to the school network! This device is now registered to your account."
                .to_string()
        }
        (Reason::TooManyDevices, De) => {
            "Für dein Konto sind schon so viele Geräte registriert wie erlaubt. Für ein \
             neues Gerät bitte im Sekretariat ein altes austragen lassen."
                .to_string()
        }
        (Reason::TooManyDevices, En) => {
            "Your account already has as many devices as allowed. To add a new one, have an \
             old one removed at the school office."
                .to_string()
        }
        (Reason::DeviceExpired, De) => {
            "Dieses Gerät war lange nicht im Schulnetz und ist abgelaufen. Bitte mit dem \
             Schulkonto neu anmelden oder im Sekretariat nachfragen."
                .to_string()
        }
        (Reason::DeviceExpired, En) => {
            "This device has not been on the school network for a long time and has \
             expired. Please sign in again with your school account or ask at the school \
             office."
                .to_string()
        }
        (Reason::TooManyFailures, De) => match d.until {
            Some(t) => format!(
                "Zu viele fehlgeschlagene Anmeldungen. Neuer Versuch ab {} möglich.",
                clock_seconds(t, tz)
            ),
            None => {
                "Zu viele fehlgeschlagene Anmeldungen. Bitte später erneut versuchen.".to_string()
            }
        },
        (Reason::TooManyFailures, En) => match d.until {
            Some(t) => format!(
                "Too many failed sign-ins. Try again from {}.",
                clock_seconds(t, tz)
            ),
            None => "Too many failed sign-ins. Please try again later.".to_string(),
        },
        (Reason::DeviceOfOtherUser, En) => {
            "This device is registered to another account. Please sign in with that account \
             or ask at the school office."
                .to_string()
        }
    }
}

/// "WLAN-Zugang gesperrt bis …", "Konto dauerhaft gesperrt", …
fn banned(d: &Decision, lang: Language, tz: &TimeZone) -> String {
    let what = match (lang, d.all_modules, d.module) {
        (Language::De, true, _) => "Konto",
        (Language::De, false, Module::Wifi) => "WLAN-Zugang",
        (Language::De, false, Module::Lan) => "LAN-Zugang",
        (Language::En, true, _) => "Account",
        (Language::En, false, Module::Wifi) => "Wi-Fi access",
        (Language::En, false, Module::Lan) => "LAN access",
    };
    match (lang, d.until) {
        (Language::De, Some(t)) => format!("{what} gesperrt bis {}", when(t, lang, tz)),
        (Language::De, None) => format!("{what} dauerhaft gesperrt"),
        (Language::En, Some(t)) => format!("{what} suspended until {}", when(t, lang, tz)),
        (Language::En, None) => format!("{what} suspended permanently"),
    }
}

/// "Dieses Gerät ist für das WLAN gesperrt bis …", "This device is suspended permanently", …
fn device_banned(d: &Decision, lang: Language, tz: &TimeZone) -> String {
    let from = match (lang, d.all_modules, d.module) {
        (_, true, _) => "",
        (Language::De, false, Module::Wifi) => " für das WLAN",
        (Language::De, false, Module::Lan) => " für das LAN",
        (Language::En, false, Module::Wifi) => " from Wi-Fi",
        (Language::En, false, Module::Lan) => " from the LAN",
    };
    match (lang, d.until) {
        (Language::De, Some(t)) => {
            format!("Dieses Gerät ist{from} gesperrt bis {}", when(t, lang, tz))
        }
        (Language::De, None) => format!("Dieses Gerät ist{from} dauerhaft gesperrt"),
        (Language::En, Some(t)) => {
            format!("This device is suspended{from} until {}", when(t, lang, tz))
        }
        (Language::En, None) => format!("This device is suspended{from} permanently"),
    }
}

/// `04.12.2026 08:00` (de) or `2026-12-04 08:00` (en), local time in `tz`.
fn when(t: Timestamp, lang: Language, tz: &TimeZone) -> String {
    let fmt = match lang {
        Language::De => "%d.%m.%Y %H:%M",
        Language::En => "%Y-%m-%d %H:%M",
    };
    t.to_zoned_datetime(tz.clone()).strftime(fmt).to_string()
}

/// `00:00:00`: the local time of day in `tz`, for pauses of seconds to minutes.
fn clock_seconds(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned_datetime(tz.clone())
        .strftime("%H:%M:%S")
        .to_string()
}

/// `00:00`: the local time of day in `tz`.
fn clock(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned_datetime(tz.clone())
        .strftime("%H:%M")
        .to_string()
}

/// "Das WLAN ist für deine Gruppe nur Mo–Fr 07:00–17:00 freigegeben. Wieder ab …". A
/// schedule too long for one attribute is left out.
fn outside_schedule(d: &Decision, lang: Language, tz: &TimeZone) -> String {
    let what = match (lang, d.module) {
        (Language::De, Module::Wifi) => "Das WLAN",
        (Language::De, Module::Lan) => "Das LAN",
        (Language::En, Module::Wifi) => "Wi-Fi",
        (Language::En, Module::Lan) => "The LAN",
    };
    let again = d.until.map(|t| match lang {
        Language::De => format!(" Wieder ab {}.", when(t, lang, tz)),
        Language::En => format!(" Open again from {}.", when(t, lang, tz)),
    });
    let again = again.unwrap_or_default();
    if let Some(s) = &d.schedule {
        let times = describe_schedule(s, lang);
        let text = match lang {
            Language::De => format!("{what} ist für deine Gruppe nur {times} freigegeben.{again}"),
            Language::En => format!("{what} is open for your group only {times}.{again}"),
        };
        if text.len() <= MAX_OCTETS {
            return text;
        }
    }
    match lang {
        Language::De => format!("{what} ist für deine Gruppe gerade nicht freigegeben.{again}"),
        Language::En => format!("{what} is not open for your group right now.{again}"),
    }
}

/// "Mo–Fr 07:00–17:00, Sa 08:00–12:00" (de) or "Mon–Fri 07:00–17:00, Sat 08:00–12:00" (en).
pub(super) fn describe_schedule(s: &Schedule, lang: Language) -> String {
    let parts: Vec<String> = s.0.iter().map(|w| describe_window(w, lang)).collect();
    parts.join(", ")
}

fn describe_window(w: &ScheduleWindow, lang: Language) -> String {
    const DE: [&str; 7] = ["Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"];
    const EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let names = match lang {
        Language::De => DE,
        Language::En => EN,
    };
    // Runs of consecutive days, Monday first: Mon–Fri, Sat.
    let mut runs: Vec<String> = Vec::new();
    let mut d = 0;
    while d < 7 {
        if !w.on(d) {
            d += 1;
            continue;
        }
        let start = d;
        while d + 1 < 7 && w.on(d + 1) {
            d += 1;
        }
        let name = |i: i8| {
            usize::try_from(i)
                .ok()
                .and_then(|i| names.get(i))
                .copied()
                .unwrap_or("")
        };
        runs.push(match d - start {
            0 => name(start).to_string(),
            1 => format!("{},{}", name(start), name(d)),
            _ => format!("{}–{}", name(start), name(d)),
        });
        d += 1;
    }
    let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
    format!("{} {}–{}", runs.join(","), hm(w.start), hm(w.end))
}
