#include "p2p/node/session_capabilities.hpp"

#include "p2p/overlay/hello_acceptor.hpp"
#include "p2p/swarm/swarm_session.hpp"
#include "p2p/trust/secret_gate.hpp"

namespace p2p {

SessionExtensions session_extensions(const SessionCapabilities& on) {
    SessionExtensions ext;
    ext.trace = on.trace;
    ext.upload = on.upload;
    ext.digests = on.indexer;
    std::shared_ptr<SecretGate> gate;
    if (on.link.secret) {
        // Before the proof only a HELLO passes, and only when the overlay answers it.
        gate = std::make_shared<SecretGate>(*on.link.secret, on.slots, on.handshake_deadline,
                                            on.overlay ? is_hello_line : std::function<bool(const std::string&)>());
        ext.hooks.gate = gate;
    }
    if (on.overlay)
        add_overlay_lines(ext.hooks, HelloParts{on.overlay, on.link, gate});
    add_swarm_lines(ext.hooks, *on.index, on.indexer, on.upload);
    return ext;
}

}  // namespace p2p
