#include "p2p/console/scan_targets.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace p2p {
namespace {

std::optional<std::uint32_t> ipv4_value(const std::string& canonical) {
    in_addr a{};
    if (is_ipv6(canonical) || ::inet_pton(AF_INET, canonical.c_str(), &a) != 1) return std::nullopt;
    return ntohl(a.s_addr);
}

std::string ipv4_text(std::uint32_t v) {
    in_addr a{};
    a.s_addr = htonl(v);
    char buf[INET_ADDRSTRLEN];
    return ::inet_ntop(AF_INET, &a, buf, sizeof buf);
}

bool port_chars_only(std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789-,") == std::string_view::npos;
}

}  // namespace

std::optional<std::vector<PeerId>> parse_scan_targets(std::string_view text,
                                                      std::string_view own_host,
                                                      std::vector<std::uint16_t> ports, std::string& error) {
    if (text.empty()) { error = "nothing to scan"; return std::nullopt; }
    std::string_view hosts_text = text, ports_text;
    if (port_chars_only(text)) {  // "5000-5009": ports on our own host, like a bare peer id
        hosts_text = own_host;
        ports_text = text;
    } else if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos || (close + 1 < text.size() && text[close + 1] != ':')) {
            error = "an IPv6 address goes in brackets: [ADDR] or [ADDR]:PORTS";
            return std::nullopt;
        }
        hosts_text = text.substr(1, close - 1);
        if (close + 1 < text.size()) ports_text = text.substr(close + 2);
        if (!is_ipv6(hosts_text)) {
            error = "brackets are for IPv6 addresses only";
            return std::nullopt;
        }
    } else {
        const auto colon = text.find(':');
        if (colon != std::string_view::npos && text.find(':', colon + 1) != std::string_view::npos) {
            error = "an IPv6 address goes in brackets: [ADDR] or [ADDR]:PORTS";
            return std::nullopt;
        }
        hosts_text = text.substr(0, colon);
        if (colon != std::string_view::npos) ports_text = text.substr(colon + 1);
    }
    if (!ports_text.empty() || text.back() == ':') {
        auto list = parse_port_list(ports_text, 65535);  // the cap below says how many in all
        if (!list) {
            error = "'" + std::string(ports_text) + "' is not a port P, a range LO-HI or a list P,LO-HI of 1 to 65535";
            return std::nullopt;
        }
        ports = std::move(*list);
    }

    // One host, or an IPv4 range FIRST-LAST (both ends parsed, so both are valid peers).
    std::vector<std::string> hosts;
    std::uint64_t host_count = 1;
    std::uint32_t first = 0;
    const auto dash = is_ipv6(hosts_text) ? std::string_view::npos : hosts_text.find('-');
    if (dash == std::string_view::npos) {
        auto host = parse_host(hosts_text, error);
        if (!host) return std::nullopt;
        hosts.push_back(*host);
    } else {
        auto a = parse_host(hosts_text.substr(0, dash), error);
        if (!a) return std::nullopt;
        auto b = parse_host(hosts_text.substr(dash + 1), error);
        if (!b) return std::nullopt;
        auto lo = ipv4_value(*a), hi = ipv4_value(*b);
        if (!lo || !hi || *lo > *hi) {
            error = "a host range is FIRST-LAST of IPv4 addresses, FIRST <= LAST";
            return std::nullopt;
        }
        first = *lo;
        host_count = std::uint64_t(*hi) - *lo + 1;
    }
    const std::uint64_t total = host_count * ports.size();
    if (total > max_scan_targets) {
        error = std::to_string(total) + " addresses; a scan probes at most " +
                std::to_string(max_scan_targets);
        return std::nullopt;
    }
    std::vector<PeerId> out;
    out.reserve(static_cast<std::size_t>(total));
    // Both ends of a range are valid peers and it is short, so nothing inside it is multicast
    // (224/4 lies between 223.x and 240.x, far more than the cap apart) or broadcast (the last).
    for (std::uint64_t h = 0; h < host_count; ++h) {
        const std::string host =
            hosts.empty() ? ipv4_text(static_cast<std::uint32_t>(first + h)) : hosts[0];
        for (const std::uint16_t p : ports) out.push_back(PeerId{host, p});
    }
    return out;
}

}  // namespace p2p
