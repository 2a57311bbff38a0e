// The node's `scan` (lab/scan.hpp): every id but our own, and an active one is remembered as
// seen.
#include "p2p/node/node.hpp"

namespace p2p {

ScanResult Node::scan() {
    std::vector<PeerId> targets;
    for (const std::uint16_t p : config_.scan_ports) targets.push_back({config_.host, p});
    return scan(targets);
}

ScanResult Node::scan(const std::vector<PeerId>& targets) {
    const PeerId me = id();
    std::vector<PeerId> ids;
    for (const auto& t : targets)
        if (t != me) ids.push_back(t);
    ScanResult result = scan_peers(ids, config_.connect_timeout, exit_);
    for (const auto& [peer, active] : result.probed)
        if (active) known_.seen(peer);
    save_known_peers();
    return result;
}

}  // namespace p2p
