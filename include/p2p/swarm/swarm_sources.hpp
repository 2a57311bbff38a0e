// Before a swarm download: every source is asked, in parallel, which version of the file it
// has (its manifest's root), and the version most sources announce is the one downloaded - a
// single stale or lying source cannot choose it for the others. Its full manifest then comes
// from one of them, checked against that root. The connections stay open for the workers.
#pragma once

#include "p2p/swarm/manifest.hpp"
#include "p2p/net/peer_id.hpp"
#include "p2p/net/socket.hpp"
#include "p2p/swarm/swarm_download.hpp"
#include "p2p/lab/transfer.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace p2p {

struct SourceSurvey {
    std::vector<SwarmDownload::Source> chosen;  ///< connections that announced the chosen root, in the given order
    std::shared_ptr<const Manifest> manifest;   ///< the chosen version's; null: no source had one ready
    std::vector<PeerId> whole_file_sources;     ///< lab peers, and ours that have not hashed it yet
    std::vector<std::string> notes;             ///< one line per source not chosen, and why
    std::vector<PeerId> invalid;                ///< sources whose manifest answer was invalid
};

/// Opens a connection of ours to a source (handshake, pins, bans); null with why, and `lab`
/// set when it is a lab peer.
using DialFn = std::function<std::unique_ptr<Socket>(const PeerId& peer, std::string& why, bool* lab)>;

/// Asks the first options.max_sources of `sources` (best first) at once.
SourceSurvey survey_sources(const std::string& name, const std::vector<PeerId>& sources, const DialFn& dial,
                            const ReadLimits& limits, const SwarmOptions& options);

}  // namespace p2p
