// What `scan HOSTS[:PORTS]` probes: the text a user types -> the peer ids, in print order.
#pragma once

#include "p2p/net/peer_id.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace p2p {

/// At most this many ids per scan: a typo such as 10.0.0.0-10.255.255.255 is an error, not
/// hours of probing.
constexpr std::size_t max_scan_targets = 4096;

/// Parses HOSTS[:PORTS]: HOSTS is an IPv4 address, an IPv4 range A-B, or one [IPv6] address;
/// PORTS is P, LO-HI or a comma list of those (parse_port_list; default `ports`, the
/// --scan-range). "PORTS" alone (e.g. 5000-5009) means `own_host`.
/// Hosts vary slowest: 10.0.0.1:5000, 10.0.0.1:5001, ..., 10.0.0.2:5000. nullopt with the
/// reason in `error` (no final period), also beyond max_scan_targets.
std::optional<std::vector<PeerId>> parse_scan_targets(std::string_view text,
                                                      std::string_view own_host,
                                                      std::vector<std::uint16_t> ports, std::string& error);

}  // namespace p2p
