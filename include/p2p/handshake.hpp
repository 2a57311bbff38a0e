// How every connection one of our nodes opens begins; the extension's negotiation in one place.
//
//   1. the probe, lab bytes:   -> "SRCH :p2p-ext:1"    <- "150 :p2p-ext:1 found." (ours)
//                                                      <- "550 ... not found."     (a lab peer)
//   2. ours only, HELLO both ways:  -> "HELLO <our id> <capabilities>\n"
//                                   <- "HELLO <its id> <capabilities>\n"
//
// A lab peer sees the probe, a search it answers like any other, and nothing more. Step 2 tells
// the accepting side our listening id (instead of an ephemeral port) and each side the other's
// capabilities. The accepting side's half is in Session.
#pragma once

#include "p2p/overlay_protocol.hpp"
#include "p2p/peer_id.hpp"
#include "p2p/socket.hpp"
#include "p2p/transfer.hpp"

#include <optional>
#include <string>

namespace p2p {

struct Handshake {
    enum class Kind {
        ours,      ///< one of our nodes: `peer` holds its HELLO
        lab,       ///< a lab peer: the lab's commands only
        failed     ///< no usable answer (silent, busy, closed, garbled, refused our HELLO)
    } kind = Kind::failed;
    std::optional<overlay::Hello> peer;
};

/// Runs both steps on a fresh connection, each within `limits`. `self` is our listening id.
Handshake handshake(Socket& socket, const PeerId& self, const ReadLimits& limits);

/// True when `caps`, a HELLO's capabilities field (comma-separated names with a version, today
/// "overlay/1"), names `capability`.
bool has_capability(std::string_view caps, std::string_view capability);

}  // namespace p2p
