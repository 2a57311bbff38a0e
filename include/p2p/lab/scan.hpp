// The lab's `scan`: which of a list of peer ids accept a TCP connection. One probe thread per
// id, at most 64 at a time, each connect bounded by `timeout` and cut short by `cancel`.
#pragma once

#include "p2p/net/peer_id.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace p2p {

/// What a scan found, in target order. Ids whose probe never ran or was cut short are not
/// in `probed`: an id is never reported inactive unless it refused or timed out.
struct ScanResult {
    std::vector<std::pair<PeerId, bool>> probed;  ///< id, active
    std::size_t not_scanned = 0;  ///< ids without a result
    bool interrupted = false;     ///< the exit event (quit, Ctrl-C) ended the scan
    std::string thread_error;     ///< why probe threads could not be started; empty if they could
};

/// Probes each of `ids`, in order; never throws (a thread that cannot start ends the scan, with
/// the reason in thread_error).
ScanResult scan_peers(const std::vector<PeerId>& ids, std::chrono::milliseconds timeout,
                      const std::atomic<bool>& cancel);

}  // namespace p2p
