// Which of our capabilities an accepted session speaks, and the one place each registers the
// lines it answers (lab/session_hooks.hpp). A new capability: its folder, one line here.
#pragma once

#include "p2p/dht/dht.hpp"
#include "p2p/lab/file_index.hpp"
#include "p2p/lab/session.hpp"
#include "p2p/net/rate_limit.hpp"
#include "p2p/net/tls.hpp"
#include "p2p/overlay/handshake.hpp"
#include "p2p/overlay/overlay.hpp"
#include "p2p/swarm/indexer.hpp"
#include "p2p/trust/handshake_slots.hpp"
#include "p2p/trust/network_secret.hpp"
#include "p2p/trust/pins.hpp"
#include "p2p/trust/reputation.hpp"

#include <chrono>

namespace p2p {

/// What a node's sessions may use beyond the lab's; a null pointer: that part is off.
struct SessionCapabilities {
    const FileIndex* index = nullptr;         ///< required: the shared folder
    const Trace* trace = nullptr;             ///< told every message
    RateLimit* upload = nullptr;              ///< paid for every file byte sent
    Overlay* overlay = nullptr;               ///< HELLO and the overlay's lines (hello_acceptor.hpp)
    Capabilities link;                        ///< what a HELLO is answered with and checked against;
                                              ///< with link.secret nothing is served before the proof
    HandshakeSlots* slots = nullptr;          ///< with a secret: left once proved or ended
    const Indexer* indexer = nullptr;         ///< manifests for XMAN, XGET and XREQ's digest
    std::chrono::milliseconds handshake_deadline{5000};  ///< with a secret: to prove it
};

/// One accepted session's extensions: fresh per-session state for each capability that is on.
SessionExtensions session_extensions(const SessionCapabilities& on);

}  // namespace p2p
