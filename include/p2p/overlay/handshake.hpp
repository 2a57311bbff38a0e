// How every connection one of our nodes opens begins; the extension's negotiation in one place.
//
//   1. the probe, lab bytes:   -> "SRCH :p2p-ext:1"    <- "150 :p2p-ext:1 found." (ours)
//                                                      <- "450 :p2p-ext:1 not found." (lab)
//   2. ours only, HELLO both ways:  -> "HELLO <our id> <capabilities>\n"
//                                   <- "HELLO <its id> <capabilities>\n"
//   3. when both HELLOs list tls/1: TLS 1.3 (tls.hpp), the connecting side as the client; every
//      byte after this is inside it, and each side knows the other's node id.
//   4. with a network secret (both list secret/1): PROOF both ways (network_secret.hpp).
//   5. when both list accept/1: the accepting side's verdict, ACCEPTED or REFUSED and why
//      (verdict.hpp), once it knows who connected; a refused node says so on its console.
//
// A node whose DHT runs lists dht/1=<its UDP port>: the peer, once accepted, gives that port on
// the peer's address to its own DHT as a bootstrap candidate (offer_dht()).
//
// A lab peer sees the probe, a search it answers like any other, and nothing more. Step 2 tells
// the accepting side our listening id (instead of an ephemeral port) and each side the other's
// capabilities. Both halves are here: handshake() for the connecting side, accept_hello() for
// the session that reads the HELLO (the probe's answer is the handler's, as for any search).
#pragma once

#include "p2p/dht/dht.hpp"
#include "p2p/trust/network_secret.hpp"
#include "p2p/overlay/overlay_protocol.hpp"
#include "p2p/overlay/verdict.hpp"
#include "p2p/trust/pins.hpp"
#include "p2p/trust/reputation.hpp"
#include "p2p/net/peer_id.hpp"
#include "p2p/net/socket.hpp"
#include "p2p/net/tls.hpp"
#include "p2p/lab/transfer.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace p2p {

/// Our nodes' TLS: the capability, and how long its handshake may take.
constexpr std::string_view tls_capability = "tls/1";
constexpr std::chrono::milliseconds tls_handshake_timeout{5000};

/// The DHT's capability; it carries a value, the UDP port: "dht/1=4222".
constexpr std::string_view dht_capability = "dht/1";

/// What this node brings to every connection of its own kind, beyond the lab's bytes; a null
/// pointer: that capability is off. A new capability adds its field here and its offer in
/// capabilities(const Capabilities&): the one place a HELLO's list is assembled.
struct Capabilities {
    const TlsContext* tls = nullptr;         ///< tls/1: the connection goes TLS
    const NetworkSecret* secret = nullptr;   ///< secret/1: a closed network, proved after TLS
    Pins* pins = nullptr;                    ///< the node id each address proved
    const Reputation* reputation = nullptr;  ///< banned nodes are refused
    Dht* dht = nullptr;                      ///< dht/1=<port>: ours, told of the peer's
};

/// What this node's HELLO lists: overlay/1, tls/1 with a TLS context, secret/1 with a secret,
/// dht/1=<port> with a DHT that runs.
std::string capabilities(const Capabilities& on);
/// The same, from the three parts that make the list.
std::string capabilities(const TlsContext* tls, const NetworkSecret* secret = nullptr, const Dht* dht = nullptr);
/// True when both sides' capabilities make the connection go TLS.
bool wants_tls(const TlsContext* tls, std::string_view peer_capabilities);

struct Handshake {
    enum class Kind {
        ours,      ///< one of our nodes: `peer` holds its HELLO
        lab,       ///< a lab peer: the lab's commands only
        failed     ///< no usable answer (silent, busy, closed, garbled, refused our HELLO)
    } kind = Kind::failed;
    std::optional<overlay::Hello> peer;
    std::string node_id;  ///< ours over TLS: the node id the peer's certificate proves
    std::string error;    ///< failed: why, when known (a TLS failure, a refusal)
    bool refused_us = false;  ///< failed: the peer refused this node and said why (busy, its verdict)
};

/// Runs the steps on a fresh connection, each within `limits`. `self` is our listening id;
/// `on.tls` (null: plain) our TLS context; `on.secret` (may be null) the network secret to
/// prove and have proved (step 4, network_secret.hpp): with one, a lab peer or a node without
/// it fails, with the reason in `error`. Our HELLO lists capabilities(on).
Handshake handshake(Socket& socket, const PeerId& self, const ReadLimits& limits, const Capabilities& on);

/// What the accepting side keeps about a peer's HELLO.
struct PeerHello {
    bool said = false;            ///< it said HELLO (once per connection)
    std::optional<PeerId> id;     ///< its listening id, when it names the host it comes from
    std::string capabilities;
};

/// The accepting half: takes `hello`, read from a peer at `remote_host`. False: the connection
/// must close (a second HELLO, or our own id). Otherwise `peer` is filled (its id only when it
/// names `remote_host`: a peer can make us link back only to a port on its own address, and a
/// node that reaches us from another address - 127.0.0.1 dialling [::1], a host with several -
/// is still served, without an id) and the answer to send is format_hello(self).
bool accept_hello(const overlay::Hello& hello, const std::string& remote_host, const PeerId& self,
                  PeerHello& peer);

/// True when `caps`, a HELLO's capabilities field (comma-separated names with a version, today
/// "overlay/1"), names `capability` (exactly: "dht/1=4222" is not "dht/1").
bool has_capability(std::string_view caps, std::string_view capability);
/// The value of the first "<capability>=<value>" in `caps` ("4222" for "dht/1"), if any.
std::optional<std::string_view> capability_value(std::string_view caps, std::string_view capability);
/// The UDP port a peer's capabilities give for its DHT: dht/1=<1..65535, digits only>.
std::optional<std::uint16_t> dht_port_of(std::string_view caps);
/// A peer accepted at `host` (the address we dialled, or the one its HELLO names and its
/// connection comes from) whose `caps` list a DHT: its endpoint goes to `dht` (may be null) as
/// a bootstrap candidate. Cheap and non-blocking (Dht::add_node).
void offer_dht(Dht* dht, const std::string& host, std::string_view caps);

}  // namespace p2p
