//! Which address a request comes from: the connection's peer, or, behind trusted
//! proxies, the entry of the configured header (`X-Forwarded-For`) that the nearest
//! trusted proxy wrote. Entries are counted from the right: a proxy appends what it saw,
//! and everything to the left of the trusted entries was written by the client itself.
//! The header is believed only from the proxies' own addresses: a client that reaches
//! the port directly is known by its socket address, whatever header it sends.

use http::{HeaderMap, HeaderName};
use ipnet::IpNet;
use std::net::{IpAddr, Ipv6Addr};

#[derive(Debug, Clone)]
pub struct ClientAddressPolicy {
    /// The header trusted proxies append to; `None`: the connection's peer.
    pub header: Option<HeaderName>,
    /// How many proxies append to it (1: the right-most entry is the client).
    pub trusted_hops: usize,
    /// Where those proxies connect from: the header is read only on their requests.
    pub trusted_proxies: Vec<IpNet>,
}

impl ClientAddressPolicy {
    /// The client's address for a request with `headers` from `peer`.
    pub fn pick(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> IpAddr {
        let unspecified = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
        // An IPv4 peer on a dual-stack socket arrives as `::ffff:a.b.c.d`.
        let peer = peer.map(|peer| peer.to_canonical());
        let Some(name) = &self.header else {
            return peer.unwrap_or(unspecified);
        };
        let from_proxy =
            peer.is_some_and(|peer| self.trusted_proxies.iter().any(|net| net.contains(&peer)));
        if !from_proxy {
            return peer.unwrap_or(unspecified);
        }
        // Several header lines count as one list, in order.
        let entries: Vec<&str> = headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect();
        // Fewer entries than proxies: every entry there was written by one of them.
        let index = entries.len().saturating_sub(self.trusted_hops.max(1));
        entries
            .get(index)
            .and_then(|entry| entry.parse().ok())
            .or(peer)
            .unwrap_or(unspecified)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(lines: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for line in lines {
            map.append("x-forwarded-for", line.parse().unwrap());
        }
        map
    }

    fn policy(hops: usize) -> ClientAddressPolicy {
        ClientAddressPolicy {
            header: Some(HeaderName::from_static("x-forwarded-for")),
            trusted_hops: hops,
            trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
        }
    }

    const PEER: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1)));

    #[test]
    fn a_spoofed_left_entry_is_ignored() {
        // The client sent "203.0.113.66"; the proxy appended what it saw.
        let spoofed = headers(&["203.0.113.66, 198.51.100.7"]);
        assert_eq!(
            policy(1).pick(&spoofed, PEER),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        let split = headers(&["203.0.113.66", "198.51.100.7"]);
        assert_eq!(
            policy(1).pick(&split, PEER),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn two_trusted_hops_take_the_second_from_the_right() {
        let chain = headers(&["203.0.113.66, 198.51.100.7, 192.0.2.10"]);
        assert_eq!(
            policy(2).pick(&chain, PEER),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        let short = headers(&["192.0.2.10"]);
        assert_eq!(
            policy(2).pick(&short, PEER),
            "192.0.2.10".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn garbage_or_no_header_falls_back_to_the_peer() {
        assert_eq!(
            policy(1).pick(&headers(&["not an address"]), PEER),
            PEER.unwrap()
        );
        assert_eq!(policy(1).pick(&HeaderMap::new(), PEER), PEER.unwrap());
        let direct = ClientAddressPolicy {
            header: None,
            trusted_hops: 1,
            trusted_proxies: Vec::new(),
        };
        assert_eq!(
            direct.pick(&headers(&["198.51.100.7"]), PEER),
            PEER.unwrap()
        );
    }

    #[test]
    fn the_header_is_believed_only_from_a_trusted_proxy() {
        let spoofed = headers(&["198.51.100.7"]);
        let direct: IpAddr = "203.0.113.5".parse().unwrap();
        assert_eq!(policy(1).pick(&spoofed, Some(direct)), direct);
        assert_eq!(
            policy(1).pick(&spoofed, None),
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        );
        // The proxy's IPv4 address as a dual-stack socket reports it.
        let mapped: IpAddr = "::ffff:10.1.2.3".parse().unwrap();
        assert_eq!(
            policy(1).pick(&spoofed, Some(mapped)),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
    }
}
