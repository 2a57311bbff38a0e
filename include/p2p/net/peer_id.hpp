// A peer's identity: the numeric address and port it listens on. Parsed from what a user types
// (a bare port means the node's own host, as in the lab), printed as host:port or [v6]:port.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace p2p {

/// A port number as typed: 1 to 65535, decimal digits only (peer ids, --port, --scan-range and
/// the port prompt all follow this one rule).
std::optional<std::uint16_t> parse_port(std::string_view text);

/// Ports as typed for a scan (--scan-range, `scan HOST:PORTS`): P, LO-HI (LO <= HI), or a
/// comma list of those ("5000-5003,5007"), in the order given. nullopt when malformed or when
/// more than `max_ports` in all.
std::optional<std::vector<std::uint16_t>> parse_port_list(std::string_view text, std::size_t max_ports);

/// A numeric IPv4 or IPv6 address (no brackets) in its canonical form ("::0:1" -> "::1"; an
/// IPv4-mapped IPv6 address becomes its IPv4 form, so one host has one spelling). Host names,
/// scoped addresses and what must never be a peer (unspecified, multicast, broadcast) are
/// refused with the reason in `error`.
std::optional<std::string> parse_host(std::string_view text, std::string& error);

/// True for an IPv6 address (canonical or not): it is the only form with a ':'.
inline bool is_ipv6(std::string_view host) { return host.find(':') != std::string_view::npos; }

struct PeerId {
    std::string host;        ///< numeric and canonical (parse_host), IPv6 without brackets
    std::uint16_t port = 0;

    /// "127.0.0.1:5003", "[::1]:5003": the one spelling in every message and on `lp`.
    std::string to_string() const;
    /// As the console shows it: the port alone for a peer on `own_host` (the lab's "5003"),
    /// to_string() otherwise.
    std::string display(std::string_view own_host) const;

    friend bool operator==(const PeerId& a, const PeerId& b) { return a.port == b.port && a.host == b.host; }
    friend bool operator!=(const PeerId& a, const PeerId& b) { return !(a == b); }
    friend bool operator<(const PeerId& a, const PeerId& b) {
        return a.host != b.host ? a.host < b.host : a.port < b.port;
    }
};

/// Writes to_string() (test messages, logs).
std::ostream& operator<<(std::ostream& out, const PeerId& peer);

/// Parses "PORT" (on `own_host`), "HOST:PORT" or "[IPV6]:PORT"; nullopt with the reason in
/// `error` (a sentence fragment, no final period).
std::optional<PeerId> parse_peer_id(std::string_view text, std::string_view own_host,
                                    std::string& error);

/// "[addr]" for IPv6, the address itself for IPv4: the host part of an id.
std::string bracketed(std::string_view host);

}  // namespace p2p
