#include "p2p/net/peer_id.hpp"

#include <arpa/inet.h>
#include <cstring>
#include <ostream>
#include <netinet/in.h>

namespace p2p {
namespace {

bool all_digits(std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// Why an IPv4 address (network order) must never be a peer; empty if it may be one.
std::string ipv4_refusal(const in_addr& a, const std::string& text) {
    const std::uint32_t v = ntohl(a.s_addr);
    if ((v >> 24) == 0) return text + " is an unspecified address (0.0.0.0/8), never a peer";
    if ((v >> 28) == 0xE) return text + " is a multicast address, never a peer";
    if (v == 0xFFFFFFFFu) return text + " is the broadcast address, never a peer";
    return {};
}

std::string ipv4_text(const in_addr& a) {
    char buf[INET_ADDRSTRLEN];
    return ::inet_ntop(AF_INET, &a, buf, sizeof buf);
}

const char* const numeric_only =
    " is not a numeric IPv4 or IPv6 address (host names are not supported)";

}  // namespace

std::optional<std::uint16_t> parse_port(std::string_view text) {
    if (!all_digits(text) || text.size() > 5) return std::nullopt;
    unsigned long v = std::stoul(std::string(text));
    if (v < 1 || v > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(v);
}

std::optional<std::vector<std::uint16_t>> parse_port_list(std::string_view text, std::size_t max_ports) {
    std::vector<std::uint16_t> ports;
    for (;;) {
        const auto comma = text.find(',');
        const std::string_view item = text.substr(0, comma);
        const auto dash = item.find('-');
        const auto low = parse_port(item.substr(0, dash));
        const auto high = dash == std::string_view::npos ? low : parse_port(item.substr(dash + 1));
        if (!low || !high || *low > *high || ports.size() + (*high - *low) + 1u > max_ports) return std::nullopt;
        for (unsigned p = *low; p <= *high; ++p) ports.push_back(static_cast<std::uint16_t>(p));
        if (comma == std::string_view::npos) return ports;
        text.remove_prefix(comma + 1);
    }
}

std::optional<std::string> parse_host(std::string_view text, std::string& error) {
    const std::string s(text);
    if (s.empty()) { error = "the address is empty"; return std::nullopt; }
    if (s.find('%') != std::string::npos) {
        error = "'" + s + "': scoped IPv6 addresses (with %) are not supported";
        return std::nullopt;
    }
    in_addr v4{};
    if (::inet_pton(AF_INET, s.c_str(), &v4) == 1) {
        const std::string canonical = ipv4_text(v4);
        error = ipv4_refusal(v4, canonical);
        if (!error.empty()) return std::nullopt;
        return canonical;
    }
    in6_addr v6{};
    if (::inet_pton(AF_INET6, s.c_str(), &v6) != 1) {
        error = "'" + s + "'" + numeric_only;
        return std::nullopt;
    }
    if (IN6_IS_ADDR_V4MAPPED(&v6)) {  // ::ffff:a.b.c.d is the IPv4 host a.b.c.d
        std::memcpy(&v4.s_addr, v6.s6_addr + 12, 4);
        const std::string canonical = ipv4_text(v4);
        error = ipv4_refusal(v4, canonical);
        if (!error.empty()) return std::nullopt;
        return canonical;
    }
    char buf[INET6_ADDRSTRLEN];
    const std::string canonical = ::inet_ntop(AF_INET6, &v6, buf, sizeof buf);
    if (IN6_IS_ADDR_UNSPECIFIED(&v6)) error = ":: is the unspecified address, never a peer";
    else if (IN6_IS_ADDR_MULTICAST(&v6)) error = canonical + " is a multicast address, never a peer";
    if (!error.empty()) return std::nullopt;
    return canonical;
}

std::string bracketed(std::string_view host) {
    return is_ipv6(host) ? "[" + std::string(host) + "]" : std::string(host);
}

std::string PeerId::to_string() const { return bracketed(host) + ":" + std::to_string(port); }

std::string PeerId::display(std::string_view own_host) const {
    return host == own_host ? std::to_string(port) : to_string();
}

std::ostream& operator<<(std::ostream& out, const PeerId& peer) { return out << peer.to_string(); }

std::optional<PeerId> parse_peer_id(std::string_view text, std::string_view own_host,
                                    std::string& error) {
    error.clear();
    if (!text.empty() && text.front() == '[' && text.back() == ']') {
        error = "the port is missing ([IPv6]:PORT)";
        return std::nullopt;
    }
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
        if (auto port = parse_port(text)) return PeerId{std::string(own_host), *port};
        std::string ignored;
        if (all_digits(text)) error = "a port number from 1 to 65535 is expected";
        else if (parse_host(text, ignored)) error = "the port is missing (HOST:PORT)";
        else error = "a port, HOST:PORT or [IPv6]:PORT is expected, with a numeric address "
                     "(host names are not supported)";
        return std::nullopt;
    }
    std::string_view host_text = text.substr(0, colon);
    const std::string_view port_text = text.substr(colon + 1);
    if (!host_text.empty() && host_text.front() == '[') {
        if (host_text.back() != ']') {
            error = "an IPv6 address goes in brackets: [ADDR]:PORT";
            return std::nullopt;
        }
        host_text = host_text.substr(1, host_text.size() - 2);
        if (!is_ipv6(host_text)) {
            error = "brackets are for IPv6 addresses only";
            return std::nullopt;
        }
    } else if (is_ipv6(host_text)) {
        error = "an IPv6 address goes in brackets: [ADDR]:PORT";
        return std::nullopt;
    }
    auto host = parse_host(host_text, error);
    if (!host) return std::nullopt;
    auto port = parse_port(port_text);
    if (!port) {
        error = "'" + std::string(port_text) + "' is not a port number from 1 to 65535";
        return std::nullopt;
    }
    return PeerId{*host, *port};
}

}  // namespace p2p
