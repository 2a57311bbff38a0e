// Pinning, as ssh's known_hosts: the first node id a host:port proves over TLS is remembered,
// in <state>/pins ("host:port node-id" per line). Later, that host:port presenting another id,
// or plain bytes where it spoke TLS (a downgrade), is refused until the user runs `unpin`.
#pragma once

#include "p2p/net/peer_id.hpp"

#include <boost/filesystem/path.hpp>
#include <boost/thread/mutex.hpp>

#include <map>
#include <optional>
#include <string>

namespace p2p {

class Pins {
public:
    /// Pins kept in `file` (empty: in memory only).
    explicit Pins(boost::filesystem::path file) : file_(std::move(file)) {}

    /// Reads the file; a missing file is no pins. Lines that do not parse are skipped.
    bool load(std::string& error);

    enum class Verdict {
        pinned_now,  ///< first TLS contact: `node_id` is now pinned for it
        same,        ///< the pinned id again
        changed,     ///< another id than the pinned one: refuse
        downgrade,   ///< plain bytes from a peer pinned over TLS: refuse
        plain        ///< plain bytes, nothing pinned: a lab peer or an old node, as before
    };
    /// What a handshake with `peer` showed: the node id its certificate proved, or empty when it
    /// spoke plain bytes. `pinned` receives the id pinned before, if any.
    /// `may_pin` false: a first id is not kept (pinned_now is still returned).
    Verdict check(const PeerId& peer, const std::string& node_id, std::string* pinned = nullptr,
                  bool may_pin = true);
    /// Forgets the pin of `peer`; false if there was none.
    bool unpin(const PeerId& peer);
    std::optional<std::string> pinned(const PeerId& peer) const;
    /// Why the last save failed (empty when it did not).
    std::string save_error() const;

private:
    void save_locked();

    const boost::filesystem::path file_;
    /// Guards pins_ and save_error_: sessions, links and the console check at once. Held across
    /// the small file write that follows a new pin (never across network I/O), so the file
    /// always matches the map.
    mutable boost::mutex mutex_;
    std::map<PeerId, std::string> pins_;
    std::string save_error_;
};

/// Checks a handshake's outcome against the pins (pinning it when new): why the connection
/// must be refused, or nothing when it may go on.
std::optional<std::string> pin_refusal(Pins& pins, const PeerId& peer, const std::string& node_id,
                                       bool may_pin = true);

}  // namespace p2p
