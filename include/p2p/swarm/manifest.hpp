// A file's manifest: the SHA-256 of each fixed-size chunk, a root that names the whole list, and
// the whole file's SHA-256. A downloader that holds the manifest can check every chunk as it
// arrives (and take chunks from several peers) instead of only the whole file at the end.
// No sockets, no threads: the background Indexer (indexer.hpp) computes and keeps them.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace p2p {

struct Manifest {
    static constexpr std::uint32_t default_chunk_size = 1u << 20;  ///< 1 MiB
    /// Chunk sizes are powers of two in [1 KiB, 16 MiB].
    static constexpr std::uint32_t min_chunk_size = 1u << 10, max_chunk_size = 1u << 24;
    /// parse_manifest() refuses more chunks than this (4 Mi chunks: 128 MiB of digests), so a
    /// hostile header cannot make a reader expect or allocate an absurd body.
    static constexpr std::size_t max_chunks = std::size_t{1} << 22;
    using Digest = std::array<unsigned char, 32>;

    std::uint64_t size = 0;
    std::uint32_t chunk_size = default_chunk_size;
    std::vector<Digest> chunks;  ///< SHA-256 of each chunk, in order; the last may be short; none for an empty file
    Digest root{};               ///< manifest_root() of the above
    Digest file_sha256{};        ///< SHA-256 of the whole file (the XREQ answer's); same pass as the chunks

    /// A power of two in [min_chunk_size, max_chunk_size].
    static bool valid_chunk_size(std::uint64_t c) {
        return c >= min_chunk_size && c <= max_chunk_size && (c & (c - 1)) == 0;
    }

    /// ceil(size / chunk_size).
    std::size_t chunk_count() const;
    std::uint64_t chunk_offset(std::size_t i) const;
    /// chunk_size, or less for the last chunk.
    std::uint32_t chunk_length(std::size_t i) const;
    /// The root as 64 lowercase hex characters.
    std::string root_hex() const;

    friend bool operator==(const Manifest& a, const Manifest& b) {
        return a.size == b.size && a.chunk_size == b.chunk_size && a.chunks == b.chunks &&
               a.root == b.root && a.file_sha256 == b.file_sha256;
    }
    friend bool operator!=(const Manifest& a, const Manifest& b) { return !(a == b); }
};

/// root = SHA-256("p2p-node manifest 1\n" || size, 8 bytes big-endian || chunk_size, 4 bytes
/// big-endian || chunks[0] || chunks[1] || ...).
/// A hash of the whole list, not a Merkle tree: the manifest always travels whole, so a tree's
/// proofs for single chunks would buy nothing, and a flat list is simpler to check.
Manifest::Digest manifest_root(std::uint64_t size, std::uint32_t chunk_size,
                               const std::vector<Manifest::Digest>& chunks);

/// Reads `size` bytes of `fd` with pread (the file offset is not moved), one piece of at most
/// a chunk in memory at a time, hashing each chunk and the whole file. Nothing on a read error,
/// a file shorter than `size`, an invalid chunk size, or once `*cancel` is set (checked at
/// least every 256 KiB).
std::optional<Manifest> compute_manifest(int fd, std::uint64_t size,
                                         std::uint32_t chunk_size = Manifest::default_chunk_size,
                                         const std::atomic<bool>* cancel = nullptr);

/// The wire and disk form: the line "<size> <chunk_size> <root-hex> <file-sha256-hex>\n", then
/// chunk_count() * 32 raw digest bytes.
std::string serialize(const Manifest& manifest);

/// Parses serialize()'s form; nothing unless the line is exactly that (decimal without leading
/// zeros or sign, lowercase hex, single spaces), the chunk size is valid, at most max_chunks
/// chunks, exactly chunk_count() * 32 bytes follow the line, and the root recomputed from the
/// chunks is the root on the line. Any bytes at all may be given (it is a fuzz target).
std::optional<Manifest> parse_manifest(std::string_view bytes);

/// For streaming readers: given the first line (without its "\n"), how many digest bytes
/// follow it, or nothing if the line is invalid (by parse_manifest()'s rules).
std::optional<std::size_t> manifest_body_length(std::string_view line);

}  // namespace p2p
