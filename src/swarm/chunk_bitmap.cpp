#include "p2p/swarm/chunk_bitmap.hpp"

#include "p2p/util/hex.hpp"

namespace p2p {
namespace {
constexpr std::string_view magic = "p2p-node chunks 1\n";
}

std::string format_chunk_bitmap(std::string_view root_hex, const std::vector<bool>& have) {
    std::string bits((have.size() + 7) / 8, '\0');
    for (std::size_t i = 0; i < have.size(); ++i)
        if (have[i]) bits[i / 8] = static_cast<char>(bits[i / 8] | (0x80 >> (i % 8)));
    return std::string(magic) + std::string(root_hex) + ' ' + std::to_string(have.size()) + '\n' +
           to_hex(reinterpret_cast<const unsigned char*>(bits.data()), bits.size()) + '\n';
}

std::optional<std::vector<bool>> parse_chunk_bitmap(std::string_view text, std::string_view root_hex,
                                                    std::size_t count) {
    const std::string head = std::string(magic) + std::string(root_hex) + ' ' + std::to_string(count) + '\n';
    if (text.compare(0, head.size(), head) != 0 || text.size() < head.size() + 1 || text.back() != '\n')
        return std::nullopt;
    auto bits = from_hex(text.substr(head.size(), text.size() - head.size() - 1));
    if (!bits || bits->size() != (count + 7) / 8) return std::nullopt;
    std::vector<bool> have(count);
    for (std::size_t i = 0; i < count; ++i) have[i] = (static_cast<unsigned char>((*bits)[i / 8]) & (0x80 >> (i % 8))) != 0;
    return have;
}

}  // namespace p2p
