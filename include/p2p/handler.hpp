// Request -> answer over the file index. No sockets: the session writes what this decides.
#pragma once

#include "p2p/file_index.hpp"
#include "p2p/protocol.hpp"

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

namespace p2p {

/// What to send back for one request.
struct Reply {
    std::string header;             ///< answer text, or status field + length prefix
    std::optional<OpenFile> body;   ///< file streamed after the header (REQ / XREQ found)
    std::uint64_t body_offset = 0;  ///< XREQ: the first byte sent
    std::string log;                ///< what the lab prints after "Response to peer X:  "
    /// The node stopped before the answer was known: close the connection without one (any
    /// answer would be false; the requester reports a vanished peer, which is the truth).
    bool abandoned = false;
};

/// Decides the answer to one request. XREQ hashes the file (once per version, cached);
/// `cancel` (the node's exit event) ends that early, and the reply is then `abandoned`.
Reply handle_request(const protocol::Request& request, const FileIndex& index,
                     const std::atomic<bool>* cancel = nullptr);

}  // namespace p2p
