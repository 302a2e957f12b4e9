//! Reply-Message texts: plain, kind words for students and parents, in German or English,
//! saying what happened and until when. Dates are shown in the school's time zone.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::{Decision, Outcome, Reason};
use crate::model::{Language, Module};

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
        (Reason::Malformed, De) => {
            "Die Anmeldung war unvollständig. Bitte noch einmal versuchen.".to_string()
        }
        (Reason::Malformed, En) => "The sign-in was incomplete. Please try again.".to_string(),
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
