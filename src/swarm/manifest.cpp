#include "p2p/swarm/manifest.hpp"

#include "p2p/util/hex.hpp"
#include "p2p/util/sha256.hpp"

#include <charconv>
#include <cstring>

namespace p2p {

namespace {

constexpr std::string_view root_prefix = "p2p-node manifest 1\n";

/// ceil(size / chunk_size) without overflow; chunk_size must not be 0.
std::uint64_t chunks_for(std::uint64_t size, std::uint64_t chunk_size) {
    return size / chunk_size + (size % chunk_size != 0);
}

/// A decimal field as serialize() writes it: digits only, no leading zero but "0" itself.
template <class T>
bool parse_decimal(std::string_view text, T& out) {
    if (text.empty() || (text.size() > 1 && text[0] == '0') || text[0] < '0' || text[0] > '9')
        return false;
    auto r = std::from_chars(text.data(), text.data() + text.size(), out);
    return r.ec == std::errc() && r.ptr == text.data() + text.size();
}

bool parse_digest(std::string_view text, Manifest::Digest& out) {
    if (text.size() != 64) return false;
    const auto bytes = from_hex(text);  // lowercase only
    if (!bytes) return false;
    std::memcpy(out.data(), bytes->data(), out.size());
    return true;
}

/// The header line's fields; chunks left empty.
std::optional<Manifest> parse_header(std::string_view line) {
    std::string_view fields[4];
    for (int i = 0; i < 4; ++i) {
        const auto space = line.find(' ');
        if ((space == std::string_view::npos) != (i == 3)) return std::nullopt;
        fields[i] = line.substr(0, space);
        line = i == 3 ? std::string_view() : line.substr(space + 1);
    }
    Manifest m;
    std::uint64_t chunk_size = 0;
    if (!parse_decimal(fields[0], m.size) || !parse_decimal(fields[1], chunk_size) ||
        !Manifest::valid_chunk_size(chunk_size) || chunks_for(m.size, chunk_size) > Manifest::max_chunks ||
        !parse_digest(fields[2], m.root) || !parse_digest(fields[3], m.file_sha256))
        return std::nullopt;
    m.chunk_size = static_cast<std::uint32_t>(chunk_size);
    return m;
}

void append_big_endian(std::string& out, std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

}  // namespace

std::size_t Manifest::chunk_count() const {
    return chunk_size == 0 ? 0 : static_cast<std::size_t>(chunks_for(size, chunk_size));
}

std::uint64_t Manifest::chunk_offset(std::size_t i) const {
    return static_cast<std::uint64_t>(i) * chunk_size;
}

std::uint32_t Manifest::chunk_length(std::size_t i) const {
    const std::uint64_t left = size - chunk_offset(i);
    return left < chunk_size ? static_cast<std::uint32_t>(left) : chunk_size;
}

std::string Manifest::root_hex() const { return to_hex(root.data(), root.size()); }

Manifest::Digest manifest_root(std::uint64_t size, std::uint32_t chunk_size,
                               const std::vector<Manifest::Digest>& chunks) {
    std::string head(root_prefix);
    append_big_endian(head, size, 8);
    append_big_endian(head, chunk_size, 4);
    Sha256 hash;
    hash.update(head.data(), head.size());
    for (const auto& c : chunks) hash.update(c.data(), c.size());
    return hash.digest();
}

std::optional<Manifest> compute_manifest(int fd, std::uint64_t size, std::uint32_t chunk_size,
                                         const std::atomic<bool>* cancel) {
    if (!Manifest::valid_chunk_size(chunk_size)) return std::nullopt;
    Manifest m;
    m.size = size;
    m.chunk_size = chunk_size;
    m.chunks.reserve(m.chunk_count());
    Sha256 whole;
    for (std::size_t i = 0; i < m.chunk_count(); ++i) {
        Sha256 chunk;
        if (!chunk.update_from_fd(fd, m.chunk_offset(i), m.chunk_length(i), cancel, &whole))
            return std::nullopt;
        m.chunks.push_back(chunk.digest());
    }
    if (cancel && cancel->load()) return std::nullopt;  // an empty file reads nothing to check it
    m.file_sha256 = whole.digest();
    m.root = manifest_root(m.size, m.chunk_size, m.chunks);
    return m;
}

std::string serialize(const Manifest& m) {
    std::string out = std::to_string(m.size) + ' ' + std::to_string(m.chunk_size) + ' ' +
                      m.root_hex() + ' ' + to_hex(m.file_sha256.data(), m.file_sha256.size()) + '\n';
    out.reserve(out.size() + m.chunks.size() * sizeof(Manifest::Digest));
    for (const auto& c : m.chunks) out.append(reinterpret_cast<const char*>(c.data()), c.size());
    return out;
}

std::optional<std::size_t> manifest_body_length(std::string_view line) {
    const auto m = parse_header(line);
    if (!m) return std::nullopt;
    return m->chunk_count() * sizeof(Manifest::Digest);
}

std::optional<Manifest> parse_manifest(std::string_view bytes) {
    const auto newline = bytes.find('\n');
    if (newline == std::string_view::npos) return std::nullopt;
    auto m = parse_header(bytes.substr(0, newline));
    if (!m) return std::nullopt;
    const std::string_view body = bytes.substr(newline + 1);
    if (body.size() != m->chunk_count() * sizeof(Manifest::Digest)) return std::nullopt;
    m->chunks.resize(m->chunk_count());
    for (std::size_t i = 0; i < m->chunks.size(); ++i)
        std::memcpy(m->chunks[i].data(), body.data() + i * sizeof(Manifest::Digest), sizeof(Manifest::Digest));
    if (manifest_root(m->size, m->chunk_size, m->chunks) != m->root) return std::nullopt;
    return m;
}

}  // namespace p2p
