#include "p2p/trust/secret_gate.hpp"

namespace p2p {

SecretGate::SecretGate(const NetworkSecret& secret, HandshakeSlots* slots, std::chrono::milliseconds deadline,
                       std::function<bool(const std::string&)> is_step)
    : secret_(secret), slots_(slots), deadline_(deadline), is_step_(std::move(is_step)) {}

std::optional<bool> SecretGate::hold(SessionIo& io, const std::string& line, bool probe) {
    // Before the proof only the handshake's steps: no answer, no file byte, no overlay line.
    if (accepted_) return check_proof(io, line);
    if (probe || (is_step_ && is_step_(line))) return std::nullopt;
    io.log("Peer " + io.who() + " has not proved the network secret: nothing is served; connection closed.");
    return false;
}

void SecretGate::await_proof(std::function<bool(SessionIo&)> accepted) { accepted_ = std::move(accepted); }

bool SecretGate::check_proof(SessionIo& io, const std::string& line) {
    const TlsLayer* tls = io.socket().tls();
    if (!tls || !secret_.check(*tls, NetworkSecret::Role::client, line)) {
        io.log("Peer " + io.who() + " did not prove the network secret; nothing is served; connection closed.");
        return false;
    }
    const auto accepted = std::move(accepted_);
    accepted_ = nullptr;
    proven_ = true;
    if (slots_) slots_->leave(&io.socket());
    io.log("Peer " + io.who() + " proved the network secret.");
    return io.send(secret_.proof_line(*tls, NetworkSecret::Role::server)) && accepted(io);
}

void SecretGate::expired(SessionIo& io) {
    io.log("Peer " + io.who() + " did not prove the network secret in time; connection closed.");
}

void SecretGate::ended(SessionIo& io) {
    if (slots_ && !proven_) slots_->leave(&io.socket());
}

}  // namespace p2p
