// The peers this node knows of - learned from --bootstrap, gossip and its own connects - as
// opposed to the ones it is connected to (PeerTable). Kept in the state folder, so a restarted
// node still knows where to start; refreshed as peers are seen, aged out when they are not.
#pragma once

#include "p2p/net/peer_id.hpp"

#include <boost/filesystem/path.hpp>
#include <boost/thread/mutex.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace p2p {

class KnownPeers {
public:
    using Clock = std::chrono::system_clock;  ///< wall clock: the times are saved across restarts

    struct Entry {
        PeerId id;
        Clock::time_point last_seen;  ///< the last time it answered us, or was first heard of
        bool overlay = false;         ///< an overlay node (bootstrap, gossip, HELLO): the
                                      ///< overlay may link to it; peers only connected or
                                      ///< scanned by the user are never contacted on their own
    };

    /// At most `cap` peers; a peer not seen for `max_age` is forgotten by expire().
    KnownPeers(std::size_t cap, std::chrono::seconds max_age) : cap_(cap), max_age_(max_age) {}

    /// Adds `id`, or moves its last_seen forward to `when` (never back). When full, the peer
    /// seen longest ago makes room; false if `id` is itself older than everyone kept.
    bool seen(const PeerId& id, Clock::time_point when = Clock::now(), bool overlay = false);
    /// Adds `id`, last seen at `when` (the time someone saw it first-hand, as gossip tells),
    /// if the list has room and it is not too old; for a known peer, moves last_seen forward
    /// to `when` only. Never evicts, so hearsay cannot push out the peers we know. False when
    /// not added.
    bool heard_of(const PeerId& id, bool overlay, Clock::time_point when = Clock::now());
    /// Forgets `id`.
    void forget(const PeerId& id);
    /// Forgets every peer not seen since now - max_age; how many were forgotten.
    std::size_t expire(Clock::time_point now = Clock::now());

    bool contains(const PeerId& id) const;
    std::size_t size() const;
    /// Every peer, most recently seen first.
    std::vector<Entry> list() const;

    /// Replaces the list with the file's (one "host:port unix-seconds [overlay]" per line; lines that do
    /// not parse are skipped and counted in `skipped`). A missing file is an empty list.
    /// False, with the reason in `error`, only when the file exists but cannot be read.
    bool load(const boost::filesystem::path& file, std::string& error, std::size_t* skipped = nullptr);
    /// Writes the list atomically (a temporary file in the same folder, fsync, rename), so a
    /// crash leaves the old list or the new one, never half of one.
    bool save(const boost::filesystem::path& file, std::string& error) const;

private:
    void evict_locked();

    const std::size_t cap_;
    const std::chrono::seconds max_age_;
    /// Guards peers_: the console, gossip and the expiry timer use the list at once. Never held
    /// across file I/O (save() copies first) or network I/O.
    mutable boost::mutex mutex_;
    struct State {
        Clock::time_point last_seen;
        bool overlay = false;
    };
    std::map<PeerId, State> peers_;
};

}  // namespace p2p
