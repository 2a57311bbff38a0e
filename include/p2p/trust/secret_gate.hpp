// The network secret on an accepted connection (network_secret.hpp): nothing is served before
// the peer proves it. Only the handshake's steps pass the gate until then; after TLS the next
// line must be the peer's PROOF, answered with ours; a peer gets `deadline` from its connect.
#pragma once

#include "p2p/lab/session_hooks.hpp"
#include "p2p/trust/handshake_slots.hpp"
#include "p2p/trust/network_secret.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace p2p {

class SecretGate : public SessionGate {
public:
    /// `is_step`: a line the handshake needs before the proof (a HELLO). `slots` (may be null)
    /// holds this connection's place among the unproven ones, left once proved or ended.
    SecretGate(const NetworkSecret& secret, HandshakeSlots* slots, std::chrono::milliseconds deadline,
               std::function<bool(const std::string& line)> is_step);

    bool open() const override { return proven_; }
    std::optional<bool> hold(SessionIo& io, const std::string& line, bool probe) override;
    std::chrono::milliseconds deadline() const override { return deadline_; }
    void expired(SessionIo& io) override;
    void ended(SessionIo& io) override;

    /// TLS is up: the peer's PROOF is the next line. Once it checked and ours is sent,
    /// `accepted` decides whether the connection goes on.
    void await_proof(std::function<bool(SessionIo&)> accepted);

private:
    bool check_proof(SessionIo& io, const std::string& line);

    const NetworkSecret& secret_;
    HandshakeSlots* slots_;
    const std::chrono::milliseconds deadline_;
    std::function<bool(const std::string&)> is_step_;
    std::function<bool(SessionIo&)> accepted_;  ///< set: the PROOF line comes next
    bool proven_ = false;
};

}  // namespace p2p
