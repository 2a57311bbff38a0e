// Lower-case hex for digests, query ids and secrets: one encoder, one decoder.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace p2p {

inline std::string to_hex(const unsigned char* data, std::size_t size) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(size * 2);
    for (std::size_t i = 0; i < size; ++i) {
        out += digits[data[i] >> 4];
        out += digits[data[i] & 15];
    }
    return out;
}

/// The bytes of lower-case hex text; nothing for an odd length or any other character.
inline std::optional<std::string> from_hex(std::string_view hex) {
    if (hex.size() % 2) return std::nullopt;
    std::string out;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        int v = 0;
        for (char c : hex.substr(i, 2)) {
            v <<= 4;
            if (c >= '0' && c <= '9') v |= c - '0';
            else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
            else return std::nullopt;
        }
        out += static_cast<char>(v);
    }
    return out;
}

}  // namespace p2p
