#include "p2p/dht/dht_network.hpp"

#include <cctype>
#include <cstdio>
#include <stdexcept>

namespace p2p {

std::string format_dht_network(std::uint32_t network) {
    char text[16];
    std::snprintf(text, sizeof text, "0x%08x", static_cast<unsigned>(network));
    return text;
}

bool parse_dht_network(const std::string& text, std::uint32_t& out) {
    if (text.empty() || text.size() > 12 || !std::isdigit(static_cast<unsigned char>(text[0]))) return false;
    try {
        // Decimal, or hex after 0x: never octal for a leading 0 (stoull's base 0 would).
        const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
        if (!std::isxdigit(static_cast<unsigned char>(text[hex ? 2 : 0]))) return false;  // no sign, no space
        std::size_t used = 0;
        const unsigned long long v = std::stoull(text.substr(hex ? 2 : 0), &used, hex ? 16 : 10);
        if (used != text.size() - (hex ? 2 : 0) || v == 0 || v > 0xffffffffULL) return false;
        out = static_cast<std::uint32_t>(v);
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

}  // namespace p2p
