// The accepting half of handshake.hpp on one session, and the overlay lines that follow it:
// HELLO (answered with ours, then TLS, then the network secret's gate), PEERS, QUERY, HIT.
// One per session: it keeps what the peer's HELLO said and its overlay state.
#pragma once

#include "p2p/dht/dht.hpp"
#include "p2p/lab/session_hooks.hpp"
#include "p2p/net/tls.hpp"
#include "p2p/overlay/handshake.hpp"
#include "p2p/overlay/overlay.hpp"
#include "p2p/trust/network_secret.hpp"
#include "p2p/trust/pins.hpp"
#include "p2p/trust/reputation.hpp"
#include "p2p/trust/secret_gate.hpp"

#include <memory>
#include <string>

namespace p2p {

/// What the accepting half uses; each pointer may be null (that part is off).
struct HelloParts {
    Overlay* overlay = nullptr;          ///< required: takes HELLO's id and the overlay lines
    Capabilities on;                     ///< our HELLO's list; the TLS, secret, pins, bans and DHT
    std::shared_ptr<SecretGate> gate;    ///< with on.secret: this session's gate
};

/// Registers HELLO, PEERS, QUERY and HIT on `hooks`, with one acceptor for this session.
void add_overlay_lines(SessionHooks& hooks, HelloParts parts);

/// A line the handshake needs before the network secret is proved.
bool is_hello_line(const std::string& line);

}  // namespace p2p
