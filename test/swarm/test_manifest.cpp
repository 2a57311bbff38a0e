// Manifests: chunk digests, the root, the file digest; the wire form and its parser.
#define BOOST_TEST_MODULE manifest
#include <boost/test/unit_test.hpp>

#include "p2p/util/hex.hpp"
#include "p2p/swarm/manifest.hpp"
#include "p2p/util/sha256.hpp"
#include "support.hpp"

#include <cctype>
#include <fcntl.h>
#include <fstream>
#include <unistd.h>

using p2p::Manifest;
using namespace p2p::test;

namespace {

std::string hex(const Manifest::Digest& d) { return p2p::to_hex(d.data(), d.size()); }

std::string sha256_hex(const std::string& bytes) {
    p2p::Sha256 h;
    h.update(bytes.data(), bytes.size());
    return h.hex_digest();
}

/// The manifest of `path`, read whole, with `chunk_size`.
std::optional<Manifest> manifest_of(const fs::path& path, std::uint32_t chunk_size,
                                    const std::atomic<bool>* cancel = nullptr,
                                    std::optional<std::uint64_t> size = std::nullopt) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    BOOST_REQUIRE(fd >= 0);
    auto m = p2p::compute_manifest(fd, size ? *size : fs::file_size(path), chunk_size, cancel);
    ::close(fd);
    return m;
}

void write_text(const fs::path& path, const std::string& text) {
    std::ofstream(path.string(), std::ios::binary) << text;
}

/// Checks every chunk's digest against the bytes of the file.
void check_chunks(const Manifest& m, const std::string& bytes) {
    BOOST_TEST(m.size == bytes.size());
    BOOST_TEST(m.chunks.size() == m.chunk_count());
    for (std::size_t i = 0; i < m.chunk_count(); ++i)
        BOOST_TEST(hex(m.chunks[i]) == sha256_hex(bytes.substr(m.chunk_offset(i), m.chunk_length(i))));
    BOOST_TEST(hex(m.file_sha256) == sha256_hex(bytes));
    BOOST_TEST((m.root == p2p::manifest_root(m.size, m.chunk_size, m.chunks)));
}

Manifest sample(std::uint64_t size = 2560, std::uint32_t chunk_size = 1024) {
    TempDir dir;
    write_file(dir / "f", size, 7);
    return *manifest_of(dir / "f", chunk_size);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(unit)

BOOST_AUTO_TEST_CASE(abc_is_one_chunk_with_the_known_digest) {
    TempDir dir;
    write_text(dir / "abc", "abc");
    const auto m = manifest_of(dir / "abc", 1024);
    BOOST_REQUIRE(m);
    BOOST_TEST(m->chunk_count() == 1u);
    BOOST_TEST(hex(m->chunks[0]) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    BOOST_TEST(hex(m->file_sha256) == hex(m->chunks[0]));
    // printf 'p2p-node manifest 1\n'; printf '\0\0\0\0\0\0\0\x03\0\0\x04\0'; the digest's bytes
    BOOST_TEST(m->root_hex() == "e406101e233c93dc279f983832050d04d2b06b701df66a17b6d85628863cacd6");
}

BOOST_AUTO_TEST_CASE(empty_file_has_no_chunks) {
    TempDir dir;
    write_text(dir / "empty", "");
    const auto m = manifest_of(dir / "empty", Manifest::default_chunk_size);
    BOOST_REQUIRE(m);
    BOOST_TEST(m->chunk_count() == 0u);
    BOOST_TEST(m->chunks.empty());
    BOOST_TEST(hex(m->file_sha256) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    // (printf 'p2p-node manifest 1\n'; printf '\0\0\0\0\0\0\0\0\0\x10\0\0') | sha256sum
    BOOST_TEST(m->root_hex() == "06371ee6d1a5fadd4acdcb5ef7c26e5d3f186a85f8501dfcde2a0c9e8bc00d60");
}

BOOST_AUTO_TEST_CASE(last_chunk_is_short) {
    TempDir dir;
    write_file(dir / "f", 2560, 3);  // 2.5 chunks of 1 KiB
    const auto m = manifest_of(dir / "f", 1024);
    BOOST_REQUIRE(m);
    BOOST_TEST(m->chunk_count() == 3u);
    BOOST_TEST(m->chunk_length(2) == 512u);
    BOOST_TEST(m->chunk_offset(2) == 2048u);
    const std::string bytes = read_file(dir / "f");
    BOOST_TEST(hex(m->chunks[2]) == sha256_hex(bytes.substr(2048)));
    check_chunks(*m, bytes);
}

BOOST_AUTO_TEST_CASE(one_chunk_and_exactly_n_chunks) {
    TempDir dir;
    for (std::uint64_t size : {1ull, 1023ull, 1024ull, 4096ull, 4097ull}) {
        write_file(dir / "f", size, 5);
        const auto m = manifest_of(dir / "f", 1024);
        BOOST_REQUIRE(m);
        BOOST_TEST(m->chunk_count() == (size + 1023) / 1024, "size " << size);
        BOOST_TEST(m->chunk_length(m->chunk_count() - 1) == (size % 1024 ? size % 1024 : 1024));
        check_chunks(*m, read_file(dir / "f"));
    }
}

BOOST_AUTO_TEST_CASE(cancel_and_short_file_give_nothing) {
    TempDir dir;
    write_file(dir / "f", 4096, 1);
    std::atomic<bool> cancel{true};
    BOOST_TEST(!manifest_of(dir / "f", 1024, &cancel));
    write_text(dir / "empty", "");
    BOOST_TEST(!manifest_of(dir / "empty", 1024, &cancel));
    BOOST_TEST(!manifest_of(dir / "f", 1024, nullptr, 4097));  // the file is shorter than asked
    BOOST_TEST(!manifest_of(dir / "f", 1000));                 // not a power of two
}

BOOST_AUTO_TEST_CASE(serialize_and_parse_round_trip) {
    for (std::uint64_t size : {0ull, 1ull, 2560ull, 4096ull}) {
        const Manifest m = sample(size);
        const std::string wire = p2p::serialize(m);
        BOOST_TEST(wire.size() == wire.find('\n') + 1 + 32 * m.chunk_count());
        const auto parsed = p2p::parse_manifest(wire);
        BOOST_REQUIRE(parsed);
        BOOST_TEST((*parsed == m));
        const auto body = p2p::manifest_body_length(wire.substr(0, wire.find('\n')));
        BOOST_TEST((body && *body == 32 * m.chunk_count()));
    }
    const std::string line = p2p::serialize(sample()).substr(0, p2p::serialize(sample()).find('\n'));
    BOOST_TEST(line == "2560 1024 " + sample().root_hex() + " " + hex(sample().file_sha256));
}

BOOST_AUTO_TEST_CASE(parse_rejects_damaged_manifests) {
    const Manifest m = sample();
    const std::string wire = p2p::serialize(m);
    const std::size_t nl = wire.find('\n');
    const std::string body = wire.substr(nl + 1);
    const std::string root = m.root_hex(), file = hex(m.file_sha256);
    auto rejected = [](const std::string& bytes) { return !p2p::parse_manifest(bytes); };

    std::string changed = wire;
    changed[nl + 1 + 40] ^= 1;  // a digest byte: the root no longer matches
    BOOST_TEST(rejected(changed));
    BOOST_TEST(rejected(wire.substr(0, wire.size() - 1)));  // truncated body
    BOOST_TEST(rejected(wire + "x"));                        // one byte more
    BOOST_TEST(rejected(wire.substr(0, nl)));                // no newline, no body
    BOOST_TEST(rejected(""));
    BOOST_TEST(rejected("\n"));
    // The root over another size or chunk size is another root, so each is also a root mismatch;
    // the line must still be refused for its own sake (manifest_body_length sees only the line).
    auto line_rejected = [&](const std::string& line) {
        return rejected(line + "\n" + body) && !p2p::manifest_body_length(line);
    };
    BOOST_TEST(line_rejected("2560 1000 " + root + " " + file));   // not a power of two
    BOOST_TEST(line_rejected("2560 512 " + root + " " + file));    // below the minimum
    BOOST_TEST(line_rejected("2560 33554432 " + root + " " + file));  // above the maximum
    BOOST_TEST(line_rejected("02560 1024 " + root + " " + file));  // leading zero
    BOOST_TEST(line_rejected("2560 01024 " + root + " " + file));
    BOOST_TEST(line_rejected("+2560 1024 " + root + " " + file));  // sign
    BOOST_TEST(line_rejected("-0 1024 " + root + " " + file));
    std::string upper = root;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    BOOST_TEST(line_rejected("2560 1024 " + upper + " " + file));  // uppercase hex
    BOOST_TEST(line_rejected("2560 1024 " + root.substr(2) + " " + file));  // short digest
    BOOST_TEST(line_rejected("2560  1024 " + root + " " + file));  // two spaces
    BOOST_TEST(line_rejected("2560 1024 " + root + " " + file + " "));  // trailing space
    BOOST_TEST(line_rejected("2560 1024 " + root + " " + file + "\r"));
    BOOST_TEST(line_rejected("2560 1024 " + root));                 // a field missing
    BOOST_TEST(line_rejected("18446744073709551616 1024 " + root + " " + file));  // > 2^64-1
    // Huge sizes: more than 4 Mi chunks is refused before any body is expected.
    BOOST_TEST(line_rejected("18446744073709551615 1024 " + root + " " + file));
    BOOST_TEST(line_rejected(std::to_string((1ull << 22) * 1024 + 1) + " 1024 " + root + " " + file));
    const auto at_cap = p2p::manifest_body_length(std::to_string((1ull << 22) * 1024) + " 1024 " + root + " " + file);
    BOOST_TEST((at_cap && *at_cap == (std::size_t{1} << 22) * 32));
    BOOST_TEST(!rejected(wire));
}

BOOST_AUTO_TEST_CASE(parse_survives_every_prefix_and_byte_flip) {
    const std::string wire = p2p::serialize(sample(3000));
    for (std::size_t n = 0; n < wire.size(); ++n) BOOST_TEST(!p2p::parse_manifest(wire.substr(0, n)));
    for (std::size_t i = 0; i < wire.size(); ++i) {
        std::string flipped = wire;
        flipped[i] = static_cast<char>(flipped[i] ^ 0x20);
        BOOST_TEST(!p2p::parse_manifest(flipped), "byte " << i);
    }
}

BOOST_AUTO_TEST_SUITE_END()
