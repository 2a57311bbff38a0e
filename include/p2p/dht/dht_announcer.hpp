// Keeps the DHT's view of this node true: every few seconds the shared folder's names are
// compared with what is announced; new names are announced, removed ones withdrawn. It also
// announces the node's presence and reads the others' into the known-peer list.
#pragma once

#include "p2p/dht/dht.hpp"
#include "p2p/lab/file_index.hpp"
#include "p2p/net/peer_id.hpp"
#include "p2p/util/stop_event.hpp"

#include <boost/thread/thread.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace p2p {

/// The node a DHT value names: its text up to the first space must be a full "host:port"
/// (`[v6]:port`); more fields may follow (docs/protocol.md). A bare port, or anything else, is
/// no node: values are hints anyone may write.
std::optional<PeerId> parse_dht_value(const std::string& text);
/// At most `max` distinct nodes other than `self` that `values` name, chosen at random: each is
/// then contacted, and values written by anyone must neither hold the caller for long nor always
/// name the same few.
std::vector<PeerId> dht_peers(const std::vector<std::string>& values, const PeerId& self, std::size_t max);

class DhtAnnouncer {
public:
    /// Files announced at most: a folder of a million names must not flood the DHT.
    static constexpr std::size_t max_files = 1024;
    /// Peers taken from one read of the presence key at most (a random few of its values):
    /// anyone may write there, and the known-peer list must keep room for gossip.
    static constexpr std::size_t max_peers_per_read = 8;

    /// `self`: our listener's id, the value of every announcement. `on_peer` gets each other
    /// node found under the presence key (called on the announcer's thread); after the first
    /// rounds the key is read again only while `wants_peers` says the node knows too few.
    DhtAnnouncer(Dht& dht, const FileIndex& files, PeerId self, StopEvent& stop,
                 std::function<void(const PeerId&)> on_peer, std::function<bool()> wants_peers,
                 std::chrono::milliseconds period = std::chrono::seconds(3));
    ~DhtAnnouncer();
    DhtAnnouncer(const DhtAnnouncer&) = delete;
    DhtAnnouncer& operator=(const DhtAnnouncer&) = delete;

    /// Starts the `p2p:dht` thread (announces at once, then every period).
    void start();
    /// Joins the thread (it ends when the stop event is set) and withdraws every announcement.
    void stop();

    /// The safe, served names in the folder now, at most max_files (sorted).
    static std::set<std::string> shared_names(const FileIndex& files);

private:
    void loop() noexcept;
    void reconcile();
    void discover_peers();

    Dht& dht_;
    const FileIndex& files_;
    const PeerId self_;
    StopEvent& stop_;
    const std::function<void(const PeerId&)> on_peer_;
    const std::function<bool()> wants_peers_;
    const std::chrono::milliseconds period_;
    std::set<std::string> announced_;  ///< file names; only the thread touches it, then stop()
    boost::thread thread_;
};

}  // namespace p2p
