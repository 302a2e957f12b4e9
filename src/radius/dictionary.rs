//! The attribute dictionary: type numbers, names, value kinds and the named values hallpass
//! uses. Sources: RFC 2865 section 5 (1-63), RFC 2866 section 5 (accounting), RFC 2867 and
//! RFC 2868 (tunnels), RFC 2869 (extensions, Message-Authenticator), RFC 3162 (IPv6),
//! RFC 4072, RFC 4372, RFC 4675 (VLANs) and RFC 5176 (Error-Cause).

/// Attribute type numbers.
pub mod attr {
    pub const USER_NAME: u8 = 1;
    pub const USER_PASSWORD: u8 = 2;
    pub const CHAP_PASSWORD: u8 = 3;
    pub const NAS_IP_ADDRESS: u8 = 4;
    pub const NAS_PORT: u8 = 5;
    pub const SERVICE_TYPE: u8 = 6;
    pub const FRAMED_PROTOCOL: u8 = 7;
    pub const FRAMED_IP_ADDRESS: u8 = 8;
    pub const FRAMED_IP_NETMASK: u8 = 9;
    pub const FRAMED_ROUTING: u8 = 10;
    pub const FILTER_ID: u8 = 11;
    pub const FRAMED_MTU: u8 = 12;
    pub const FRAMED_COMPRESSION: u8 = 13;
    pub const LOGIN_IP_HOST: u8 = 14;
    pub const LOGIN_SERVICE: u8 = 15;
    pub const LOGIN_TCP_PORT: u8 = 16;
    pub const REPLY_MESSAGE: u8 = 18;
    pub const CALLBACK_NUMBER: u8 = 19;
    pub const CALLBACK_ID: u8 = 20;
    pub const FRAMED_ROUTE: u8 = 22;
    pub const FRAMED_IPX_NETWORK: u8 = 23;
    pub const STATE: u8 = 24;
    pub const CLASS: u8 = 25;
    pub const VENDOR_SPECIFIC: u8 = 26;
    pub const SESSION_TIMEOUT: u8 = 27;
    pub const IDLE_TIMEOUT: u8 = 28;
    pub const TERMINATION_ACTION: u8 = 29;
    pub const CALLED_STATION_ID: u8 = 30;
    pub const CALLING_STATION_ID: u8 = 31;
    pub const NAS_IDENTIFIER: u8 = 32;
    pub const PROXY_STATE: u8 = 33;
    pub const LOGIN_LAT_SERVICE: u8 = 34;
    pub const LOGIN_LAT_NODE: u8 = 35;
    pub const LOGIN_LAT_GROUP: u8 = 36;
    pub const FRAMED_APPLETALK_LINK: u8 = 37;
    pub const FRAMED_APPLETALK_NETWORK: u8 = 38;
    pub const FRAMED_APPLETALK_ZONE: u8 = 39;
    pub const ACCT_STATUS_TYPE: u8 = 40;
    pub const ACCT_DELAY_TIME: u8 = 41;
    pub const ACCT_INPUT_OCTETS: u8 = 42;
    pub const ACCT_OUTPUT_OCTETS: u8 = 43;
    pub const ACCT_SESSION_ID: u8 = 44;
    pub const ACCT_AUTHENTIC: u8 = 45;
    pub const ACCT_SESSION_TIME: u8 = 46;
    pub const ACCT_INPUT_PACKETS: u8 = 47;
    pub const ACCT_OUTPUT_PACKETS: u8 = 48;
    pub const ACCT_TERMINATE_CAUSE: u8 = 49;
    pub const ACCT_MULTI_SESSION_ID: u8 = 50;
    pub const ACCT_LINK_COUNT: u8 = 51;
    pub const ACCT_INPUT_GIGAWORDS: u8 = 52;
    pub const ACCT_OUTPUT_GIGAWORDS: u8 = 53;
    pub const EVENT_TIMESTAMP: u8 = 55;
    pub const EGRESS_VLANID: u8 = 56;
    pub const INGRESS_FILTERS: u8 = 57;
    pub const EGRESS_VLAN_NAME: u8 = 58;
    pub const USER_PRIORITY_TABLE: u8 = 59;
    pub const CHAP_CHALLENGE: u8 = 60;
    pub const NAS_PORT_TYPE: u8 = 61;
    pub const PORT_LIMIT: u8 = 62;
    pub const LOGIN_LAT_PORT: u8 = 63;
    pub const TUNNEL_TYPE: u8 = 64;
    pub const TUNNEL_MEDIUM_TYPE: u8 = 65;
    pub const TUNNEL_CLIENT_ENDPOINT: u8 = 66;
    pub const TUNNEL_SERVER_ENDPOINT: u8 = 67;
    pub const ACCT_TUNNEL_CONNECTION: u8 = 68;
    pub const TUNNEL_PASSWORD: u8 = 69;
    pub const ARAP_PASSWORD: u8 = 70;
    pub const ARAP_FEATURES: u8 = 71;
    pub const ARAP_ZONE_ACCESS: u8 = 72;
    pub const ARAP_SECURITY: u8 = 73;
    pub const ARAP_SECURITY_DATA: u8 = 74;
    pub const PASSWORD_RETRY: u8 = 75;
    pub const PROMPT: u8 = 76;
    pub const CONNECT_INFO: u8 = 77;
    pub const CONFIGURATION_TOKEN: u8 = 78;
    pub const EAP_MESSAGE: u8 = 79;
    pub const MESSAGE_AUTHENTICATOR: u8 = 80;
    pub const TUNNEL_PRIVATE_GROUP_ID: u8 = 81;
    pub const TUNNEL_ASSIGNMENT_ID: u8 = 82;
    pub const TUNNEL_PREFERENCE: u8 = 83;
    pub const ARAP_CHALLENGE_RESPONSE: u8 = 84;
    pub const ACCT_INTERIM_INTERVAL: u8 = 85;
    pub const ACCT_TUNNEL_PACKETS_LOST: u8 = 86;
    pub const NAS_PORT_ID: u8 = 87;
    pub const FRAMED_POOL: u8 = 88;
    pub const CHARGEABLE_USER_IDENTITY: u8 = 89;
    pub const TUNNEL_CLIENT_AUTH_ID: u8 = 90;
    pub const TUNNEL_SERVER_AUTH_ID: u8 = 91;
    pub const NAS_IPV6_ADDRESS: u8 = 95;
    pub const FRAMED_INTERFACE_ID: u8 = 96;
    pub const FRAMED_IPV6_PREFIX: u8 = 97;
    pub const LOGIN_IPV6_HOST: u8 = 98;
    pub const FRAMED_IPV6_ROUTE: u8 = 99;
    pub const FRAMED_IPV6_POOL: u8 = 100;
    pub const ERROR_CAUSE: u8 = 101;
    pub const EAP_KEY_NAME: u8 = 102;
}

/// Named values of enumerated attributes.
pub mod values {
    /// Service-Type (RFC 2865 section 5.6).
    pub mod service_type {
        pub const LOGIN: u32 = 1;
        pub const FRAMED: u32 = 2;
        pub const CALLBACK_LOGIN: u32 = 3;
        pub const CALLBACK_FRAMED: u32 = 4;
        pub const OUTBOUND: u32 = 5;
        pub const ADMINISTRATIVE: u32 = 6;
        pub const NAS_PROMPT: u32 = 7;
        pub const AUTHENTICATE_ONLY: u32 = 8;
        pub const CALLBACK_NAS_PROMPT: u32 = 9;
        /// Sent by switches for MAC authentication bypass (MAB).
        pub const CALL_CHECK: u32 = 10;
        pub const CALLBACK_ADMINISTRATIVE: u32 = 11;
        /// RFC 5176 section 3.2: a Disconnect/CoA-Request asking only to re-authorize.
        pub const AUTHORIZE_ONLY: u32 = 17;
    }

    /// NAS-Port-Type (RFC 2865 section 5.41).
    pub mod nas_port_type {
        pub const ASYNC: u32 = 0;
        pub const SYNC: u32 = 1;
        pub const VIRTUAL: u32 = 5;
        pub const ETHERNET: u32 = 15;
        pub const XDSL: u32 = 16;
        pub const CABLE: u32 = 17;
        pub const WIRELESS_OTHER: u32 = 18;
        pub const WIRELESS_802_11: u32 = 19;
    }

    /// Tunnel-Type (RFC 2868 section 3.1, RFC 3580 section 3.31).
    pub mod tunnel_type {
        pub const VLAN: u32 = 13;
    }

    /// Tunnel-Medium-Type (RFC 2868 section 3.2).
    pub mod tunnel_medium_type {
        pub const IPV4: u32 = 1;
        pub const IPV6: u32 = 2;
        /// IEEE 802, including Ethernet and Wi-Fi; used with Tunnel-Type VLAN.
        pub const IEEE_802: u32 = 6;
    }

    /// Acct-Status-Type (RFC 2866 section 5.1).
    pub mod acct_status_type {
        pub const START: u32 = 1;
        pub const STOP: u32 = 2;
        pub const INTERIM_UPDATE: u32 = 3;
        pub const ACCOUNTING_ON: u32 = 7;
        pub const ACCOUNTING_OFF: u32 = 8;
    }

    /// Acct-Terminate-Cause (RFC 2866 section 5.10).
    pub mod acct_terminate_cause {
        pub const USER_REQUEST: u32 = 1;
        pub const LOST_CARRIER: u32 = 2;
        pub const LOST_SERVICE: u32 = 3;
        pub const IDLE_TIMEOUT: u32 = 4;
        pub const SESSION_TIMEOUT: u32 = 5;
        pub const ADMIN_RESET: u32 = 6;
        pub const ADMIN_REBOOT: u32 = 7;
        pub const PORT_ERROR: u32 = 8;
        pub const NAS_ERROR: u32 = 9;
        pub const NAS_REQUEST: u32 = 10;
        pub const NAS_REBOOT: u32 = 11;
        pub const PORT_UNNEEDED: u32 = 12;
        pub const PORT_PREEMPTED: u32 = 13;
        pub const PORT_SUSPENDED: u32 = 14;
        pub const SERVICE_UNAVAILABLE: u32 = 15;
        pub const CALLBACK: u32 = 16;
        pub const USER_ERROR: u32 = 17;
        pub const HOST_REQUEST: u32 = 18;
    }

    /// Error-Cause (RFC 5176 section 3.5).
    pub mod error_cause {
        pub const RESIDUAL_SESSION_CONTEXT_REMOVED: u32 = 201;
        pub const INVALID_EAP_PACKET: u32 = 202;
        pub const UNSUPPORTED_ATTRIBUTE: u32 = 401;
        pub const MISSING_ATTRIBUTE: u32 = 402;
        pub const NAS_IDENTIFICATION_MISMATCH: u32 = 403;
        pub const INVALID_REQUEST: u32 = 404;
        pub const UNSUPPORTED_SERVICE: u32 = 405;
        pub const UNSUPPORTED_EXTENSION: u32 = 406;
        pub const INVALID_ATTRIBUTE_VALUE: u32 = 407;
        pub const ADMINISTRATIVELY_PROHIBITED: u32 = 501;
        pub const REQUEST_NOT_ROUTABLE: u32 = 502;
        pub const SESSION_CONTEXT_NOT_FOUND: u32 = 503;
        pub const SESSION_CONTEXT_NOT_REMOVABLE: u32 = 504;
        pub const OTHER_PROXY_PROCESSING_ERROR: u32 = 505;
        pub const RESOURCES_UNAVAILABLE: u32 = 506;
        pub const REQUEST_INITIATED: u32 = 507;
        pub const MULTIPLE_SESSION_SELECTION_UNSUPPORTED: u32 = 508;
    }
}

/// How an attribute's value is encoded (RFC 8044 data types, in the RFCs' words).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueKind {
    /// UTF-8 text, 1..=253 octets.
    Text,
    /// Opaque octets.
    String,
    /// IPv4 address, 4 octets.
    Address,
    /// Unsigned 32-bit integer, 4 octets, network order.
    Integer,
    /// Seconds since 1970-01-01 UTC, 4 octets.
    Time,
    /// IPv6 address, 16 octets (RFC 3162).
    Ipv6Address,
    /// IPv6 prefix: reserved octet, prefix length, prefix (RFC 3162 section 2.3).
    Ipv6Prefix,
    /// 8-octet interface identifier (RFC 3162 section 2.2).
    InterfaceId,
    /// RFC 2868: one tag octet and a 3-octet integer (Tunnel-Type, -Medium-Type, -Preference).
    TaggedInteger,
    /// RFC 2868: an optional tag octet (0x01..=0x1F) then text or octets.
    TaggedString,
    /// RFC 2868 section 3.5: tag, 2-octet salt, hidden password.
    TaggedPassword,
    /// Vendor-Specific (RFC 2865 section 5.26): 4-octet vendor id, then vendor data.
    VendorSpecific,
}

/// One dictionary entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttributeDef {
    pub typ: u8,
    pub name: &'static str,
    pub kind: ValueKind,
    /// The value is a secret (or authenticates the packet) and is never printed.
    pub secret: bool,
}

const fn def(typ: u8, name: &'static str, kind: ValueKind) -> AttributeDef {
    AttributeDef {
        typ,
        name,
        kind,
        secret: false,
    }
}

const fn hidden(typ: u8, name: &'static str, kind: ValueKind) -> AttributeDef {
    AttributeDef {
        typ,
        name,
        kind,
        secret: true,
    }
}

use ValueKind as K;
use attr as a;

/// Every attribute the codec knows, in type order.
pub const ATTRIBUTES: &[AttributeDef] = &[
    def(a::USER_NAME, "User-Name", K::Text),
    hidden(a::USER_PASSWORD, "User-Password", K::String),
    hidden(a::CHAP_PASSWORD, "CHAP-Password", K::String),
    def(a::NAS_IP_ADDRESS, "NAS-IP-Address", K::Address),
    def(a::NAS_PORT, "NAS-Port", K::Integer),
    def(a::SERVICE_TYPE, "Service-Type", K::Integer),
    def(a::FRAMED_PROTOCOL, "Framed-Protocol", K::Integer),
    def(a::FRAMED_IP_ADDRESS, "Framed-IP-Address", K::Address),
    def(a::FRAMED_IP_NETMASK, "Framed-IP-Netmask", K::Address),
    def(a::FRAMED_ROUTING, "Framed-Routing", K::Integer),
    def(a::FILTER_ID, "Filter-Id", K::Text),
    def(a::FRAMED_MTU, "Framed-MTU", K::Integer),
    def(a::FRAMED_COMPRESSION, "Framed-Compression", K::Integer),
    def(a::LOGIN_IP_HOST, "Login-IP-Host", K::Address),
    def(a::LOGIN_SERVICE, "Login-Service", K::Integer),
    def(a::LOGIN_TCP_PORT, "Login-TCP-Port", K::Integer),
    def(a::REPLY_MESSAGE, "Reply-Message", K::Text),
    def(a::CALLBACK_NUMBER, "Callback-Number", K::Text),
    def(a::CALLBACK_ID, "Callback-Id", K::Text),
    def(a::FRAMED_ROUTE, "Framed-Route", K::Text),
    def(a::FRAMED_IPX_NETWORK, "Framed-IPX-Network", K::Integer),
    def(a::STATE, "State", K::String),
    def(a::CLASS, "Class", K::String),
    def(a::VENDOR_SPECIFIC, "Vendor-Specific", K::VendorSpecific),
    def(a::SESSION_TIMEOUT, "Session-Timeout", K::Integer),
    def(a::IDLE_TIMEOUT, "Idle-Timeout", K::Integer),
    def(a::TERMINATION_ACTION, "Termination-Action", K::Integer),
    def(a::CALLED_STATION_ID, "Called-Station-Id", K::Text),
    def(a::CALLING_STATION_ID, "Calling-Station-Id", K::Text),
    def(a::NAS_IDENTIFIER, "NAS-Identifier", K::Text),
    def(a::PROXY_STATE, "Proxy-State", K::String),
    def(a::LOGIN_LAT_SERVICE, "Login-LAT-Service", K::Text),
    def(a::LOGIN_LAT_NODE, "Login-LAT-Node", K::Text),
    def(a::LOGIN_LAT_GROUP, "Login-LAT-Group", K::String),
    def(
        a::FRAMED_APPLETALK_LINK,
        "Framed-AppleTalk-Link",
        K::Integer,
    ),
    def(
        a::FRAMED_APPLETALK_NETWORK,
        "Framed-AppleTalk-Network",
        K::Integer,
    ),
    def(a::FRAMED_APPLETALK_ZONE, "Framed-AppleTalk-Zone", K::Text),
    def(a::ACCT_STATUS_TYPE, "Acct-Status-Type", K::Integer),
    def(a::ACCT_DELAY_TIME, "Acct-Delay-Time", K::Integer),
    def(a::ACCT_INPUT_OCTETS, "Acct-Input-Octets", K::Integer),
    def(a::ACCT_OUTPUT_OCTETS, "Acct-Output-Octets", K::Integer),
    def(a::ACCT_SESSION_ID, "Acct-Session-Id", K::Text),
    def(a::ACCT_AUTHENTIC, "Acct-Authentic", K::Integer),
    def(a::ACCT_SESSION_TIME, "Acct-Session-Time", K::Integer),
    def(a::ACCT_INPUT_PACKETS, "Acct-Input-Packets", K::Integer),
    def(a::ACCT_OUTPUT_PACKETS, "Acct-Output-Packets", K::Integer),
    def(a::ACCT_TERMINATE_CAUSE, "Acct-Terminate-Cause", K::Integer),
    def(a::ACCT_MULTI_SESSION_ID, "Acct-Multi-Session-Id", K::Text),
    def(a::ACCT_LINK_COUNT, "Acct-Link-Count", K::Integer),
    def(a::ACCT_INPUT_GIGAWORDS, "Acct-Input-Gigawords", K::Integer),
    def(
        a::ACCT_OUTPUT_GIGAWORDS,
        "Acct-Output-Gigawords",
        K::Integer,
    ),
    def(a::EVENT_TIMESTAMP, "Event-Timestamp", K::Time),
    def(a::EGRESS_VLANID, "Egress-VLANID", K::Integer),
    def(a::INGRESS_FILTERS, "Ingress-Filters", K::Integer),
    def(a::EGRESS_VLAN_NAME, "Egress-VLAN-Name", K::Text),
    def(a::USER_PRIORITY_TABLE, "User-Priority-Table", K::String),
    def(a::CHAP_CHALLENGE, "CHAP-Challenge", K::String),
    def(a::NAS_PORT_TYPE, "NAS-Port-Type", K::Integer),
    def(a::PORT_LIMIT, "Port-Limit", K::Integer),
    def(a::LOGIN_LAT_PORT, "Login-LAT-Port", K::Text),
    def(a::TUNNEL_TYPE, "Tunnel-Type", K::TaggedInteger),
    def(
        a::TUNNEL_MEDIUM_TYPE,
        "Tunnel-Medium-Type",
        K::TaggedInteger,
    ),
    def(
        a::TUNNEL_CLIENT_ENDPOINT,
        "Tunnel-Client-Endpoint",
        K::TaggedString,
    ),
    def(
        a::TUNNEL_SERVER_ENDPOINT,
        "Tunnel-Server-Endpoint",
        K::TaggedString,
    ),
    def(a::ACCT_TUNNEL_CONNECTION, "Acct-Tunnel-Connection", K::Text),
    hidden(a::TUNNEL_PASSWORD, "Tunnel-Password", K::TaggedPassword),
    hidden(a::ARAP_PASSWORD, "ARAP-Password", K::String),
    def(a::ARAP_FEATURES, "ARAP-Features", K::String),
    def(a::ARAP_ZONE_ACCESS, "ARAP-Zone-Access", K::Integer),
    def(a::ARAP_SECURITY, "ARAP-Security", K::Integer),
    def(a::ARAP_SECURITY_DATA, "ARAP-Security-Data", K::Text),
    def(a::PASSWORD_RETRY, "Password-Retry", K::Integer),
    def(a::PROMPT, "Prompt", K::Integer),
    def(a::CONNECT_INFO, "Connect-Info", K::Text),
    def(a::CONFIGURATION_TOKEN, "Configuration-Token", K::String),
    def(a::EAP_MESSAGE, "EAP-Message", K::String),
    hidden(a::MESSAGE_AUTHENTICATOR, "Message-Authenticator", K::String),
    def(
        a::TUNNEL_PRIVATE_GROUP_ID,
        "Tunnel-Private-Group-Id",
        K::TaggedString,
    ),
    def(
        a::TUNNEL_ASSIGNMENT_ID,
        "Tunnel-Assignment-Id",
        K::TaggedString,
    ),
    def(a::TUNNEL_PREFERENCE, "Tunnel-Preference", K::TaggedInteger),
    def(
        a::ARAP_CHALLENGE_RESPONSE,
        "ARAP-Challenge-Response",
        K::String,
    ),
    def(
        a::ACCT_INTERIM_INTERVAL,
        "Acct-Interim-Interval",
        K::Integer,
    ),
    def(
        a::ACCT_TUNNEL_PACKETS_LOST,
        "Acct-Tunnel-Packets-Lost",
        K::Integer,
    ),
    def(a::NAS_PORT_ID, "NAS-Port-Id", K::Text),
    def(a::FRAMED_POOL, "Framed-Pool", K::Text),
    def(
        a::CHARGEABLE_USER_IDENTITY,
        "Chargeable-User-Identity",
        K::String,
    ),
    def(
        a::TUNNEL_CLIENT_AUTH_ID,
        "Tunnel-Client-Auth-Id",
        K::TaggedString,
    ),
    def(
        a::TUNNEL_SERVER_AUTH_ID,
        "Tunnel-Server-Auth-Id",
        K::TaggedString,
    ),
    def(a::NAS_IPV6_ADDRESS, "NAS-IPv6-Address", K::Ipv6Address),
    def(
        a::FRAMED_INTERFACE_ID,
        "Framed-Interface-Id",
        K::InterfaceId,
    ),
    def(a::FRAMED_IPV6_PREFIX, "Framed-IPv6-Prefix", K::Ipv6Prefix),
    def(a::LOGIN_IPV6_HOST, "Login-IPv6-Host", K::Ipv6Address),
    def(a::FRAMED_IPV6_ROUTE, "Framed-IPv6-Route", K::Text),
    def(a::FRAMED_IPV6_POOL, "Framed-IPv6-Pool", K::Text),
    def(a::ERROR_CAUSE, "Error-Cause", K::Integer),
    def(a::EAP_KEY_NAME, "EAP-Key-Name", K::String),
];

/// Direct index by type number, built at compile time from [`ATTRIBUTES`].
static BY_TYPE: [Option<AttributeDef>; 256] = {
    let mut table: [Option<AttributeDef>; 256] = [None; 256];
    let mut i = 0;
    while i < ATTRIBUTES.len() {
        let d = ATTRIBUTES[i];
        table[d.typ as usize] = Some(d);
        i += 1;
    }
    table
};

/// The dictionary entry of an attribute type, if known.
pub fn attribute_def(typ: u8) -> Option<&'static AttributeDef> {
    BY_TYPE[usize::from(typ)].as_ref()
}

/// The RFC name of an attribute type, e.g. `User-Name` for 1.
pub fn attribute_name(typ: u8) -> Option<&'static str> {
    attribute_def(typ).map(|d| d.name)
}

/// The value kind of an attribute type.
pub fn attribute_kind(typ: u8) -> Option<ValueKind> {
    attribute_def(typ).map(|d| d.kind)
}

/// True when the attribute's value must never be printed or logged: User-Password,
/// CHAP-Password, Tunnel-Password, ARAP-Password and Message-Authenticator.
pub fn is_secret(typ: u8) -> bool {
    attribute_def(typ).is_some_and(|d| d.secret)
}

/// The name of an enumerated value, e.g. `Ethernet` for NAS-Port-Type 15.
pub fn value_name(typ: u8, value: u32) -> Option<&'static str> {
    use values::*;
    let name = match typ {
        a::SERVICE_TYPE => match value {
            service_type::LOGIN => "Login-User",
            service_type::FRAMED => "Framed-User",
            service_type::CALLBACK_LOGIN => "Callback-Login-User",
            service_type::CALLBACK_FRAMED => "Callback-Framed-User",
            service_type::OUTBOUND => "Outbound-User",
            service_type::ADMINISTRATIVE => "Administrative-User",
            service_type::NAS_PROMPT => "NAS-Prompt-User",
            service_type::AUTHENTICATE_ONLY => "Authenticate-Only",
            service_type::CALLBACK_NAS_PROMPT => "Callback-NAS-Prompt",
            service_type::CALL_CHECK => "Call-Check",
            service_type::CALLBACK_ADMINISTRATIVE => "Callback-Administrative",
            service_type::AUTHORIZE_ONLY => "Authorize-Only",
            _ => return None,
        },
        a::NAS_PORT_TYPE => match value {
            nas_port_type::ASYNC => "Async",
            nas_port_type::SYNC => "Sync",
            nas_port_type::VIRTUAL => "Virtual",
            nas_port_type::ETHERNET => "Ethernet",
            nas_port_type::XDSL => "xDSL",
            nas_port_type::CABLE => "Cable",
            nas_port_type::WIRELESS_OTHER => "Wireless-Other",
            nas_port_type::WIRELESS_802_11 => "Wireless-802.11",
            _ => return None,
        },
        a::TUNNEL_TYPE => match value {
            tunnel_type::VLAN => "VLAN",
            _ => return None,
        },
        a::TUNNEL_MEDIUM_TYPE => match value {
            tunnel_medium_type::IPV4 => "IPv4",
            tunnel_medium_type::IPV6 => "IPv6",
            tunnel_medium_type::IEEE_802 => "IEEE-802",
            _ => return None,
        },
        a::ACCT_STATUS_TYPE => match value {
            acct_status_type::START => "Start",
            acct_status_type::STOP => "Stop",
            acct_status_type::INTERIM_UPDATE => "Interim-Update",
            acct_status_type::ACCOUNTING_ON => "Accounting-On",
            acct_status_type::ACCOUNTING_OFF => "Accounting-Off",
            _ => return None,
        },
        a::ACCT_TERMINATE_CAUSE => match value {
            acct_terminate_cause::USER_REQUEST => "User-Request",
            acct_terminate_cause::LOST_CARRIER => "Lost-Carrier",
            acct_terminate_cause::LOST_SERVICE => "Lost-Service",
            acct_terminate_cause::IDLE_TIMEOUT => "Idle-Timeout",
            acct_terminate_cause::SESSION_TIMEOUT => "Session-Timeout",
            acct_terminate_cause::ADMIN_RESET => "Admin-Reset",
            acct_terminate_cause::ADMIN_REBOOT => "Admin-Reboot",
            acct_terminate_cause::PORT_ERROR => "Port-Error",
            acct_terminate_cause::NAS_ERROR => "NAS-Error",
            acct_terminate_cause::NAS_REQUEST => "NAS-Request",
            acct_terminate_cause::NAS_REBOOT => "NAS-Reboot",
            acct_terminate_cause::PORT_UNNEEDED => "Port-Unneeded",
            acct_terminate_cause::PORT_PREEMPTED => "Port-Preempted",
            acct_terminate_cause::PORT_SUSPENDED => "Port-Suspended",
            acct_terminate_cause::SERVICE_UNAVAILABLE => "Service-Unavailable",
            acct_terminate_cause::CALLBACK => "Callback",
            acct_terminate_cause::USER_ERROR => "User-Error",
            acct_terminate_cause::HOST_REQUEST => "Host-Request",
            _ => return None,
        },
        a::ERROR_CAUSE => match value {
            error_cause::RESIDUAL_SESSION_CONTEXT_REMOVED => "Residual-Session-Context-Removed",
            error_cause::INVALID_EAP_PACKET => "Invalid-EAP-Packet",
            error_cause::UNSUPPORTED_ATTRIBUTE => "Unsupported-Attribute",
            error_cause::MISSING_ATTRIBUTE => "Missing-Attribute",
            error_cause::NAS_IDENTIFICATION_MISMATCH => "NAS-Identification-Mismatch",
            error_cause::INVALID_REQUEST => "Invalid-Request",
            error_cause::UNSUPPORTED_SERVICE => "Unsupported-Service",
            error_cause::UNSUPPORTED_EXTENSION => "Unsupported-Extension",
            error_cause::INVALID_ATTRIBUTE_VALUE => "Invalid-Attribute-Value",
            error_cause::ADMINISTRATIVELY_PROHIBITED => "Administratively-Prohibited",
            error_cause::REQUEST_NOT_ROUTABLE => "Request-Not-Routable",
            error_cause::SESSION_CONTEXT_NOT_FOUND => "Session-Context-Not-Found",
            error_cause::SESSION_CONTEXT_NOT_REMOVABLE => "Session-Context-Not-Removable",
            error_cause::OTHER_PROXY_PROCESSING_ERROR => "Other-Proxy-Processing-Error",
            error_cause::RESOURCES_UNAVAILABLE => "Resources-Unavailable",
            error_cause::REQUEST_INITIATED => "Request-Initiated",
            error_cause::MULTIPLE_SESSION_SELECTION_UNSUPPORTED => {
                "Multiple-Session-Selection-Unsupported"
            }
            _ => return None,
        },
        _ => return None,
    };
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_unique_and_indexed() {
        for w in ATTRIBUTES.windows(2) {
            assert!(w[0].typ < w[1].typ, "{} then {}", w[0].name, w[1].name);
        }
        for d in ATTRIBUTES {
            assert_eq!(attribute_def(d.typ), Some(d));
        }
        let known = (0..=u8::MAX)
            .filter(|t| attribute_def(*t).is_some())
            .count();
        assert_eq!(known, ATTRIBUTES.len());
    }

    #[test]
    fn names_kinds_and_secrets() {
        assert_eq!(attribute_name(attr::USER_NAME), Some("User-Name"));
        assert_eq!(
            attribute_name(attr::TUNNEL_PRIVATE_GROUP_ID),
            Some("Tunnel-Private-Group-Id")
        );
        assert_eq!(attribute_name(0), None);
        assert_eq!(attribute_name(17), None);
        assert_eq!(
            attribute_kind(attr::NAS_IP_ADDRESS),
            Some(ValueKind::Address)
        );
        assert_eq!(
            attribute_kind(attr::TUNNEL_TYPE),
            Some(ValueKind::TaggedInteger)
        );
        assert_eq!(attribute_kind(attr::EVENT_TIMESTAMP), Some(ValueKind::Time));
        for t in [2u8, 3, 69, 80] {
            assert!(is_secret(t), "{t}");
        }
        assert!(!is_secret(attr::USER_NAME));
        assert!(!is_secret(200));
    }

    #[test]
    fn value_names() {
        assert_eq!(value_name(attr::NAS_PORT_TYPE, 19), Some("Wireless-802.11"));
        assert_eq!(value_name(attr::NAS_PORT_TYPE, 15), Some("Ethernet"));
        assert_eq!(value_name(attr::TUNNEL_TYPE, 13), Some("VLAN"));
        assert_eq!(value_name(attr::TUNNEL_MEDIUM_TYPE, 6), Some("IEEE-802"));
        assert_eq!(
            value_name(attr::ACCT_STATUS_TYPE, 3),
            Some("Interim-Update")
        );
        assert_eq!(
            value_name(attr::ERROR_CAUSE, 503),
            Some("Session-Context-Not-Found")
        );
        assert_eq!(value_name(attr::SERVICE_TYPE, 10), Some("Call-Check"));
        assert_eq!(value_name(attr::SERVICE_TYPE, 99), None);
        assert_eq!(value_name(attr::USER_NAME, 1), None);
    }
}
