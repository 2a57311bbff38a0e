// What one node is asked to be: its address, folders, limits, and each capability's settings.
// Filled by the command line (node_options.hpp) or by a test.
#pragma once

#include "p2p/dht/dht.hpp"
#include "p2p/lab/session.hpp"
#include "p2p/net/identity.hpp"
#include "p2p/overlay/overlay.hpp"
#include "p2p/swarm/swarm_download.hpp"
#include "p2p/trust/network_secret.hpp"

#include <boost/filesystem/path.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace p2p {

struct NodeConfig {
    std::string host = "127.0.0.1";          ///< numeric IPv4 or IPv6; bound and advertised
    std::uint16_t port = 0;                  ///< 0: chosen by the OS (tests)
    boost::filesystem::path shared_dir;      ///< must exist
    std::vector<std::uint16_t> scan_ports = {5000, 5001, 5002, 5003, 5004, 5005, 5006, 5007, 5008, 5009};
    std::size_t max_sessions = 64;           ///< handler threads at most; more get "busy"
    SessionLimits session;
    std::chrono::milliseconds connect_timeout{1000};  ///< the lab's 1 s scan timeout
    std::chrono::milliseconds stall_timeout{30000};   ///< a silent peer during sf/request
    std::chrono::milliseconds probe_timeout{3000};    ///< the extension probe after connect
    /// The node's own files, never served: the known-peer list. Empty: nothing is kept.
    boost::filesystem::path state_dir;
    std::size_t known_peers_cap = 1024;                      ///< peers remembered at most
    std::chrono::seconds known_peer_max_age{7 * 24 * 3600};  ///< unseen this long: forgotten
    OverlayConfig overlay;                                   ///< neighbours, bootstrap, rates
    bool trace = false;                                      ///< --trace: every wire message
    std::shared_ptr<const Identity> identity;                ///< null: a new one at start()
    std::shared_ptr<const NetworkSecret> secret;             ///< --secret: null, an open network
    std::chrono::seconds ban_time{600};                      ///< the first ban for bad data
    /// Bytes per second over all sessions (served files) / all downloads; 0: unlimited.
    std::uint64_t max_upload_rate = 0, max_download_rate = 0;
    SwarmOptions swarm;                                      ///< `get`: chunks in flight, strikes
    std::optional<DhtOptions> dht;                           ///< --dht: empty, no DHT
};

}  // namespace p2p
