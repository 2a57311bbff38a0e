// The requesting side: SRCH and REQ over one connected peer socket.
#pragma once

#include "p2p/lab/file_index.hpp"
#include "p2p/net/socket.hpp"
#include "p2p/lab/transfer.hpp"

#include <cstdint>
#include <string>

namespace p2p {

/// How a search on one peer ended.
/// busy: it answered that it has no room for another peer (and closed).
enum class SearchOutcome { found, not_found, busy, disconnected, invalid_answer, timeout, interrupted };

/// Sends "SRCH name" and waits for one of the two possible answers.
SearchOutcome search(Socket& socket, const std::string& name, const ReadLimits& limits);

/// Asks a freshly connected peer whether it speaks the extension (integrity, resume, 64-bit
/// lengths). found: yes; not_found: a lab peer; anything else: the connection is unusable.
SearchOutcome probe_extension(Socket& socket, const ReadLimits& limits);

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
        write_failed,    ///< the local disk refused the bytes (text in `detail`)
        corrupt          ///< every byte arrived but the SHA-256 differs; discarded
    } kind;
    std::uint64_t bytes = 0;     ///< bytes received in this transfer
    std::uint64_t expected = 0;  ///< bytes announced by the peer for this transfer
    std::string detail;
    std::uint64_t resumed_from = 0;  ///< extension: bytes that were already in name.part
    bool verified = false;           ///< extension: the SHA-256 matched
    bool partial_kept = false;       ///< extension: name.part kept for a later resume
};

/// True when a download ended with the connection unusable (gone, stalled, garbled or cut
/// by a cancel): the peer must be dropped, and with the extension the .part is resumable.
bool stream_lost(DownloadOutcome::Kind kind);

/// Downloads `name` into `index`'s folder (see receive_file). With `extended`, uses XREQ:
/// resumes from name.part, verifies the SHA-256, takes 64-bit sizes; otherwise the lab's REQ.
DownloadOutcome download(Socket& socket, const std::string& name, const FileIndex& index,
                         bool overwrite, bool extended, const ReadLimits& limits,
                         const ProgressFn& progress);

}  // namespace p2p
