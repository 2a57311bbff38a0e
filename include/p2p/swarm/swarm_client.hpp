// The requesting side of the swarm's messages (swarm_protocol.hpp) on one connection of ours:
// the manifest, and pipelined chunk requests whose answers arrive in order.
#pragma once

#include "p2p/swarm/manifest.hpp"
#include "p2p/net/socket.hpp"
#include "p2p/lab/transfer.hpp"

#include <memory>
#include <string>

namespace p2p {

/// How a manifest request ended.
struct ManifestAnswer {
    enum class Kind { ready, not_ready, not_found, invalid_answer, lost } kind;
    std::shared_ptr<const Manifest> manifest;  ///< ready, when the body was kept: parsed, root checked
    std::string root;                           ///< ready: the root its line announces (hex)
    ReadStatus lost_how = ReadStatus::ok;       ///< lost: how the connection ended
};
/// Asks for `name`'s manifest. With `keep_body` false only the announced root is kept (the
/// digests are read and dropped): enough to compare sources, without holding every source's
/// list. A manifest of more than `max_chunks` chunks is an invalid answer (its body unread).
ManifestAnswer fetch_manifest(Socket& socket, const std::string& name, const ReadLimits& limits, bool keep_body,
                              std::size_t max_chunks);

/// Asks for chunk `index` (the answer comes later, in order).
bool send_chunk_request(Socket& socket, const std::string& name, const Manifest& manifest, std::size_t index);

/// How one chunk answer ended.
struct ChunkAnswer {
    enum class Kind { received, changed, invalid_answer, lost } kind;
    ReadStatus lost_how = ReadStatus::ok;
};
/// Reads the answer to the request for chunk `index` into `buffer` (at least the chunk's
/// length); the bytes are not checked yet (chunk_matches).
ChunkAnswer read_chunk(Socket& socket, const Manifest& manifest, std::size_t index, char* buffer,
                       const ReadLimits& limits);
/// True when `data` is chunk `index` of the manifest (its SHA-256 matches).
bool chunk_matches(const Manifest& manifest, std::size_t index, const char* data);

}  // namespace p2p
