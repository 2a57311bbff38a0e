// Request -> answer over the file index. No sockets: the session writes what this decides.
#pragma once

#include "p2p/lab/file_index.hpp"
#include "p2p/lab/protocol.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace p2p {

/// Files whose whole SHA-256 is already known (the swarm's indexer keeps them for its
/// manifests), so XREQ can name it before the bytes instead of after.
class FileDigests {
public:
    virtual ~FileDigests() = default;
    /// The file's SHA-256 in hex, if known for exactly this version of it; never hashes.
    virtual std::optional<std::string> sha256_hex(const OpenFile& file) const = 0;
};

/// What to send back for one request.
struct Reply {
    std::string header;             ///< answer text, or status field + length prefix
    std::optional<OpenFile> body;   ///< file streamed after the header (REQ / XREQ found)
    std::uint64_t body_offset = 0;  ///< XREQ: the first byte sent
    bool digest_after = false;      ///< XREQ's 261: hash while sending, then send the digest
    std::string log;                ///< what the lab prints after "Response to peer X:  "
};

/// Decides the answer to one request; never waits for a hash. XREQ takes the whole file's
/// SHA-256 from `digests` (may be null), and without one answers 261: the digest follows the
/// bytes.
Reply handle_request(const protocol::Request& request, const FileIndex& index, const FileDigests* digests = nullptr);

}  // namespace p2p
