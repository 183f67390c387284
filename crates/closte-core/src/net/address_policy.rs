//! Which addresses the certificate check may connect to. A mapped domain is chosen by a
//! customer, so its DNS may point anywhere: at this machine, the private network or the cloud's
//! metadata service. The check connects only to public addresses, judged after resolution and
//! for every address tried (CONTRACT §5); `closte.allow_private_targets` lifts that for tests.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A special-purpose range an address falls in (none: a public address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    Loopback,
    Unspecified,
    Private,
    /// 100.64.0.0/10, carrier-grade NAT.
    Shared,
    LinkLocal,
    /// 192.0.0.0/24, IETF protocol assignments.
    Protocol,
    Documentation,
    Benchmarking,
    Multicast,
    Broadcast,
    Reserved,
}

impl Range {
    pub fn as_str(self) -> &'static str {
        match self {
            Range::Loopback => "loopback",
            Range::Unspecified => "unspecified",
            Range::Private => "private",
            Range::Shared => "shared",
            Range::LinkLocal => "link_local",
            Range::Protocol => "protocol",
            Range::Documentation => "documentation",
            Range::Benchmarking => "benchmarking",
            Range::Multicast => "multicast",
            Range::Broadcast => "broadcast",
            Range::Reserved => "reserved",
        }
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The verdict on one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Judgement {
    /// The canonical address (an IPv4-mapped IPv6 address as IPv4).
    pub address: IpAddr,
    /// Whether the check may connect to it.
    pub allowed: bool,
    /// The special range it falls in, `None` for a public address.
    pub range: Option<Range>,
}

/// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as the IPv4 address it is; others unchanged.
pub fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// Judges `address`: public addresses are allowed; an address in a special range only with
/// `allow_private` (closte.allow_private_targets, tests only).
pub fn judge(address: IpAddr, allow_private: bool) -> Judgement {
    let address = canonical(address);
    let range = match address {
        IpAddr::V4(v4) => v4_range(v4),
        IpAddr::V6(v6) => v6_range(v6),
    };
    Judgement {
        address,
        allowed: range.is_none() || allow_private,
        range,
    }
}

fn v4_range(address: Ipv4Addr) -> Option<Range> {
    let [a, b, c, _] = address.octets();
    let range = match (a, b, c) {
        (0, _, _) => Range::Unspecified,
        (10, _, _) => Range::Private,
        (100, 64..=127, _) => Range::Shared,
        (127, _, _) => Range::Loopback,
        (169, 254, _) => Range::LinkLocal,
        (172, 16..=31, _) => Range::Private,
        (192, 0, 0) => Range::Protocol,
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => Range::Documentation,
        (192, 168, _) => Range::Private,
        (198, 18..=19, _) => Range::Benchmarking,
        (224..=239, _, _) => Range::Multicast,
        _ if address == Ipv4Addr::BROADCAST => Range::Broadcast,
        (240..=255, _, _) => Range::Reserved,
        _ => return None,
    };
    Some(range)
}

fn v6_range(address: Ipv6Addr) -> Option<Range> {
    let segments = address.segments();
    // NAT64 (64:ff9b::/96) reaches the IPv4 address in its last 32 bits.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [a, b] = segments[6].to_be_bytes();
        let [c, d] = segments[7].to_be_bytes();
        return v4_range(Ipv4Addr::new(a, b, c, d));
    }
    let range = match segments {
        _ if address.is_unspecified() => Range::Unspecified,
        _ if address.is_loopback() => Range::Loopback,
        [first, ..] if first & 0xffc0 == 0xfe80 => Range::LinkLocal,
        // fec0::/10 (deprecated site-local) and fc00::/7 (unique local).
        [first, ..] if first & 0xffc0 == 0xfec0 || first & 0xfe00 == 0xfc00 => Range::Private,
        [first, ..] if first & 0xff00 == 0xff00 => Range::Multicast,
        [0x2001, 0x0db8, ..] => Range::Documentation,
        // 100::/64, discard-only.
        [0x0100, 0, 0, 0, ..] => Range::Reserved,
        _ => return None,
    };
    Some(range)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(text: &str, allow_private: bool) -> (String, bool, Option<&'static str>) {
        let judgement = judge(text.parse().unwrap(), allow_private);
        (
            judgement.address.to_string(),
            judgement.allowed,
            judgement.range.map(Range::as_str),
        )
    }

    #[test]
    fn every_range_has_its_documented_name() {
        let all = [
            Range::Loopback,
            Range::Unspecified,
            Range::Private,
            Range::Shared,
            Range::LinkLocal,
            Range::Protocol,
            Range::Documentation,
            Range::Benchmarking,
            Range::Multicast,
            Range::Broadcast,
            Range::Reserved,
        ];
        let names: Vec<String> = all.iter().map(ToString::to_string).collect();
        assert_eq!(
            names,
            [
                "loopback",
                "unspecified",
                "private",
                "shared",
                "link_local",
                "protocol",
                "documentation",
                "benchmarking",
                "multicast",
                "broadcast",
                "reserved"
            ]
        );
    }

    #[test]
    fn the_edges_of_each_ipv4_range_are_judged_exactly() {
        for (text, range) in [
            ("0.255.255.255", Some("unspecified")),
            ("1.0.0.0", None),
            ("9.255.255.255", None),
            ("10.0.0.0", Some("private")),
            ("11.0.0.0", None),
            ("100.64.0.0", Some("shared")),
            ("100.127.255.255", Some("shared")),
            ("100.63.255.255", None),
            ("100.128.0.0", None),
            ("126.255.255.255", None),
            ("127.0.0.0", Some("loopback")),
            ("128.0.0.0", None),
            ("169.253.255.255", None),
            ("169.254.0.0", Some("link_local")),
            ("169.255.0.0", None),
            ("172.15.255.255", None),
            ("172.16.0.0", Some("private")),
            ("172.31.255.255", Some("private")),
            ("172.32.0.0", None),
            ("192.0.0.0", Some("protocol")),
            ("192.0.1.0", None),
            ("192.0.2.0", Some("documentation")),
            ("192.0.3.0", None),
            ("198.51.99.255", None),
            ("198.51.100.0", Some("documentation")),
            ("198.51.101.0", None),
            ("203.0.112.255", None),
            ("203.0.113.255", Some("documentation")),
            ("203.0.114.0", None),
            ("192.167.255.255", None),
            ("192.168.0.0", Some("private")),
            ("192.169.0.0", None),
            ("198.17.255.255", None),
            ("198.18.0.0", Some("benchmarking")),
            ("198.19.255.255", Some("benchmarking")),
            ("198.20.0.0", None),
            ("223.255.255.255", None),
            ("224.0.0.0", Some("multicast")),
            ("239.255.255.255", Some("multicast")),
            ("240.0.0.0", Some("reserved")),
            ("255.255.255.254", Some("reserved")),
            ("255.255.255.255", Some("broadcast")),
        ] {
            assert_eq!(
                verdict(text, false),
                (text.to_string(), range.is_none(), range),
                "{text}"
            );
        }
    }

    #[test]
    fn the_edges_of_each_ipv6_range_are_judged_exactly() {
        for (text, range) in [
            ("::", Some("unspecified")),
            ("::1", Some("loopback")),
            ("::2", None),
            ("fe7f:ffff::1", None),
            ("fe80::", Some("link_local")),
            ("febf:ffff::1", Some("link_local")),
            ("fec0::", Some("private")),
            ("feff:ffff::1", Some("private")),
            ("fbff:ffff::1", None),
            ("fc00::", Some("private")),
            ("fdff:ffff::1", Some("private")),
            ("fe00::1", None),
            ("ff00::", Some("multicast")),
            ("ff0e::1", Some("multicast")),
            ("2001:db7:ffff::1", None),
            ("2001:db8::", Some("documentation")),
            ("2001:db8:ffff::1", Some("documentation")),
            ("2001:db9::", None),
            ("100::", Some("reserved")),
            ("100::ffff:ffff:ffff:ffff", Some("reserved")),
            ("100:0:0:1::", None),
            ("101::", None),
            ("64:ff9b::7f00:1", Some("loopback")),
            ("64:ff9b::1:a00:1", None),
            ("64:ff9a::a00:1", None),
            ("65:ff9b::a00:1", None),
        ] {
            assert_eq!(
                verdict(text, false),
                (text.to_string(), range.is_none(), range),
                "{text}"
            );
        }
    }

    #[test]
    fn a_mapped_address_is_judged_and_shown_as_ipv4_and_allow_private_lifts_every_refusal() {
        assert_eq!(
            verdict("::ffff:169.254.169.254", false),
            ("169.254.169.254".into(), false, Some("link_local"))
        );
        assert_eq!(
            verdict("::ffff:169.254.169.254", true),
            ("169.254.169.254".into(), true, Some("link_local"))
        );
        assert_eq!(
            verdict("224.0.0.1", true),
            ("224.0.0.1".into(), true, Some("multicast"))
        );
        assert_eq!(verdict("8.8.4.4", true), ("8.8.4.4".into(), true, None));
        assert_eq!(
            canonical("2001:db8::1".parse().unwrap()),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
    }
}
