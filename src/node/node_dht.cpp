// The node's DHT (--dht): started beside the listener with its announcer, and asked which
// peers announced a file.
#include "p2p/node/node.hpp"

#include <algorithm>

namespace p2p {

std::string Node::start_dht() {
    dht_ = std::make_unique<Dht>(id().to_string());
    try {
        // On loopback every node of a test or demo shares the address OpenDHT limits per.
        config_.dht->unlimited_rates = config_.host.rfind("127.", 0) == 0 || config_.host == "::1";
        config_.dht->host = config_.host;  // the DHT listens where the node does, nowhere else
        dht_->start(*config_.dht);
        dht_announcer_ = std::make_unique<DhtAnnouncer>(
            *dht_, *index_, id(), stop_event_,
            [this](const PeerId& peer) {
                // KnownPeers has its own mutex; the list is saved by the console's next change or stop().
                known_.heard_of(peer, true);
            },
            // Enough to fill the neighbour slots twice over (or 8): more comes by gossip.
            [this] { return known_.size() < std::max<std::size_t>(2 * config_.overlay.neighbours, 8); });
        dht_announcer_->start();
    } catch (const std::exception& e) {
        dht_announcer_.reset();
        dht_->stop();
        dht_.reset();
        return std::string("DHT not started: ") + e.what() + "; the node runs without it.";
    }
    return "DHT listening on UDP port " + std::to_string(dht_->port()) + " (network " +
           format_dht_network(config_.dht->network) + ")";
}

std::vector<PeerId> Node::dht_candidates(const std::string& name, std::chrono::milliseconds timeout,
                                         Dht::LookupStats* stats) {
    if (!dht_) return {};
    return dht_peers(dht_->lookup(Dht::file_key(name), timeout, exit_, stats), id(), max_dht_candidates);
}

}  // namespace p2p
