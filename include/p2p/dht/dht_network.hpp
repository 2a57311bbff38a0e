// A DHT network id as people type and read it (--dht-network, `dht`, the startup line).
#pragma once

#include <cstdint>
#include <string>

namespace p2p {

/// "0x" and 8 hex digits, as the node prints a network id.
std::string format_dht_network(std::uint32_t network);

/// Parses a --dht-network value: decimal or 0x-hex, 1 to 2^32-1 (0 is the public network).
bool parse_dht_network(const std::string& text, std::uint32_t& out);

}  // namespace p2p
