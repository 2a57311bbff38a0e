// The serving side of the swarm's messages (swarm_protocol.hpp): what to answer to XMAN and
// XGET. No sockets, and never a hash on this path: a manifest is the indexer's (indexer.hpp)
// or there is none yet.
#pragma once

#include "p2p/lab/file_index.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace p2p {

class Indexer;

struct SwarmReply {
    std::string header;              ///< the answer line (with the manifest's bytes for 270)
    std::optional<OpenFile> body;    ///< XGET: the file, of which one chunk follows
    std::uint64_t offset = 0, length = 0;
    std::string log;                 ///< for the server's log; empty: not logged (every chunk)
    bool close = false;              ///< a malformed request: answered, then the connection ends
};

/// `indexer` may be null (no manifests: every XMAN is "not ready").
SwarmReply answer_swarm_request(std::string_view line, const FileIndex& index, const Indexer* indexer);

}  // namespace p2p
