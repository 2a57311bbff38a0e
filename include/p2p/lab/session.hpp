// One accepted peer: the read -> dispatch -> write loop of its handler thread.
#pragma once

#include "p2p/lab/file_index.hpp"
#include "p2p/overlay/handshake.hpp"
#include "p2p/trust/handshake_slots.hpp"
#include "p2p/lab/line_reader.hpp"
#include "p2p/util/output.hpp"
#include "p2p/overlay/overlay.hpp"
#include "p2p/trust/network_secret.hpp"
#include "p2p/trust/pins.hpp"
#include "p2p/net/rate_limit.hpp"
#include "p2p/trust/reputation.hpp"
#include "p2p/net/socket.hpp"
#include "p2p/lab/trace.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace p2p {

class Indexer;

/// Time limits of a session.
struct SessionLimits {
    /// Bytes without '\n' become a request after this pause (lab peers send no terminator).
    std::chrono::milliseconds quiet_window{25};
    /// A peer that sends nothing for this long is dropped (0 = never).
    std::chrono::milliseconds idle_timeout{std::chrono::minutes(5)};
    /// A peer that stops reading an answer for this long is dropped.
    std::chrono::milliseconds send_timeout{std::chrono::seconds(30)};
};

/// What a session of ours has beyond the lab's: each may be null (a plain lab server).
struct SessionExtensions {
    Overlay* overlay = nullptr;               ///< takes HELLO's id and the overlay lines
    const Trace* trace = nullptr;             ///< told every message
    const TlsContext* tls = nullptr;          ///< answers a HELLO that lists tls/1
    Pins* pins = nullptr;                     ///< checks the id a HELLO names
    const NetworkSecret* secret = nullptr;    ///< set: nothing is served before the proof
    const Reputation* reputation = nullptr;   ///< a banned node's connections are refused
    HandshakeSlots* slots = nullptr;          ///< with a secret: left once proved or ended
    RateLimit* upload = nullptr;              ///< paid for every file byte sent
    const Indexer* indexer = nullptr;         ///< manifests for XMAN, XGET and XREQ's digest
    Dht* dht = nullptr;                       ///< ours: in our HELLO; told of an accepted peer's
    std::chrono::milliseconds handshake_deadline{5000};  ///< with a secret: to prove it
};

class Session {
public:
    Session(std::shared_ptr<Socket> socket, std::uint16_t peer_id, const FileIndex& index,
            Output& output, const SessionLimits& limits, const std::atomic<bool>& exit_event,
            const SessionExtensions& extensions = {});

    /// Serves requests until the peer closes, misbehaves, idles out or the node stops, then
    /// shuts the connection down so the peer sees the end. Never throws.
    void run() noexcept;

private:
    void serve();
    /// Answers one message; false when the connection must end.
    bool dispatch(const std::string& message);
    /// HELLO (answered with ours: the accepting half of handshake.hpp), PEERS, QUERY, HIT.
    bool dispatch_overlay(const std::string& message);
    /// XMAN and XGET (swarm_server.hpp).
    bool dispatch_swarm(const std::string& message);
    /// A PROOF line while the secret is awaited (network_secret.hpp); false: close.
    bool dispatch_proof(const std::string& message);
    /// The handshake is complete: checks the pin, and tells the overlay of the node.
    bool accept_peer();
    /// Writes and traces; false when the connection failed.
    bool send(const std::string& bytes);
    std::string who() const { return "peer " + name_; }

    std::shared_ptr<Socket> socket_;
    /// How the log names the peer: its ephemeral port, as the lab does, until its HELLO tells
    /// its listening id.
    std::string name_;
    const FileIndex& index_;
    Output& output_;
    SessionLimits limits_;
    const std::atomic<bool>& exit_event_;
    LineReader reader_;
    Overlay* overlay_;
    const NetworkSecret* secret_;
    const std::chrono::milliseconds handshake_deadline_;
    bool proven_;           ///< served: no secret is set, or the peer proved it
    bool awaiting_proof_ = false;  ///< TLS is up; its PROOF line comes next
    /// One of our nodes: what its HELLO said (nothing for a lab peer), and its overlay state.
    PeerHello hello_;
    const TlsContext* tls_;
    Pins* pins_;
    const Reputation* reputation_;
    HandshakeSlots* slots_;
    RateLimit* upload_;  ///< the node's upload limit; null: none
    const Indexer* indexer_;
    Dht* dht_;
    std::string node_id_;  ///< proved by its certificate, over TLS
    OverlayConnection link_;
};

}  // namespace p2p
