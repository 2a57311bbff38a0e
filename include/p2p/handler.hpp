// Request -> answer over the file index. No sockets: the session writes what this decides.
#pragma once

#include "p2p/file_index.hpp"
#include "p2p/protocol.hpp"

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
};

Reply handle_request(const protocol::Request& request, const FileIndex& index);

}  // namespace p2p
