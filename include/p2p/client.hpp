// The requesting side: SRCH and REQ over one connected peer socket.
#pragma once

#include "p2p/file_index.hpp"
#include "p2p/socket.hpp"
#include "p2p/transfer.hpp"

#include <cstdint>
#include <string>

namespace p2p {

/// How a search on one peer ended.
enum class SearchOutcome { found, not_found, disconnected, invalid_answer, timeout, interrupted };

/// Sends "SRCH name" and waits for one of the two possible answers.
SearchOutcome search(Socket& socket, const std::string& name, const ReadLimits& limits);

/// How a download from one peer ended.
struct DownloadOutcome {
    enum class Kind {
        saved,           ///< every byte arrived and `name` now holds them
        not_found,       ///< the peer answered 550
        refused,         ///< the peer answered 550 with another reason (text in `detail`)
        exists,          ///< a local file of that name was kept; nothing written
        disconnected,    ///< the peer went away (mid-transfer if bytes > 0)
        invalid_answer,  ///< the peer's answer does not follow the protocol
        timeout,         ///< the peer stalled
        interrupted,     ///< quit or Ctrl-C while waiting
        write_failed     ///< the local disk refused the bytes (text in `detail`)
    } kind;
    std::uint64_t bytes = 0;     ///< bytes received
    std::uint64_t expected = 0;  ///< bytes announced by the peer
    std::string detail;
};

/// Sends "REQ name" and saves the file into `index`'s folder (see receive_file).
DownloadOutcome download(Socket& socket, const std::string& name, const FileIndex& index,
                         bool overwrite, const ReadLimits& limits, const ProgressFn& progress);

}  // namespace p2p
