#include "p2p/overlay/hello_acceptor.hpp"

#include "p2p/lab/protocol.hpp"
#include "p2p/overlay/overlay_protocol.hpp"
#include "p2p/overlay/verdict.hpp"

#include <algorithm>
#include <chrono>

namespace p2p {
namespace pr = protocol;

namespace {

class HelloAcceptor {
public:
    explicit HelloAcceptor(HelloParts parts) : parts_(std::move(parts)) {}

    bool on_line(SessionIo& io, const std::string& message);

private:
    /// The handshake is complete: checks the pin and the bans, gives the verdict, and tells
    /// the overlay of the node.
    bool accept_peer(SessionIo& io);
    /// When its ban ends, under its proved node id or the id its HELLO names; nothing: not banned.
    std::optional<Reputation::Clock::time_point> ban_ends() const;
    /// Its HELLO listed accept/1: it waits for our verdict (verdict.hpp).
    bool wants_verdict() const { return has_capability(hello_.capabilities, verdict::capability); }
    /// Tells it why, if it waits for a verdict; the connection closes after this either way.
    void refuse(SessionIo& io, const verdict::Refusal& refusal) {
        if (wants_verdict()) io.send(verdict::format_refused(refusal));
    }

    HelloParts parts_;
    /// What its HELLO said, and its overlay state.
    PeerHello hello_;
    std::string node_id_;  ///< proved by its certificate, over TLS
    OverlayConnection link_;
};

bool HelloAcceptor::on_line(SessionIo& io, const std::string& message) {
    const auto m = overlay::parse(message);
    const bool hello = m.kind == overlay::Message::Kind::hello;
    Overlay& overlay = *parts_.overlay;
    Socket& socket = io.socket();
    // A HELLO is the handshake's accepting half (answered with ours below); the rest is the
    // overlay's.
    if (hello ? !accept_hello(m.hello, socket.remote_host(), overlay.self(), hello_)
              : !overlay.on_message(link_, message)) {
        io.log("Peer " + io.who() + " sent an invalid or unwanted overlay message; connection closed.");
        return false;
    }
    if (!hello) return true;
    // The lab's lines keep the lab's name, the ephemeral port; ours and the trace take the
    // listening id. This detail line ties the two (the lab has none: --verbose and node.log).
    const std::string caps = pr::escape_control(hello_.capabilities);
    if (hello_.id) {
        io.detail("Peer " + io.name() + " is node " + hello_.id->to_string() + " (" + caps + ").");
        io.known_as(hello_.id->to_string());
        link_.from = hello_.id;
    } else {
        io.detail("Peer " + io.name() + " is one of our nodes (" + caps + "), but its HELLO names another host than " +
               socket.remote_host() + "; its id is not taken.");
    }
    const TlsContext* tls = parts_.on.tls;
    const NetworkSecret* secret = parts_.on.secret;
    if (!io.send(overlay::format_hello(overlay.self(), capabilities(parts_.on)))) return false;
    if (secret && !(wants_tls(tls, hello_.capabilities) &&
                    has_capability(hello_.capabilities, NetworkSecret::capability))) {
        io.log("Peer " + io.who() + " has no network secret (its HELLO lists no secret/1 over TLS); "
               "connection closed.");
        return false;
    }
    if (wants_tls(tls, hello_.capabilities)) {
        // Both listed tls/1: from the next byte on, TLS (the peer is the client). Plain bytes
        // already behind the HELLO would be taken as if they came inside TLS (the STARTTLS
        // injection of CVE-2011-0411): an honest peer sends none, so refuse.
        if (io.has_unread_bytes()) {
            io.log("Peer " + io.who() + " sent bytes after its HELLO before TLS; connection closed.");
            return false;
        }
        std::string error;
        if (!socket.start_tls(*tls, TlsLayer::Role::server, tls_handshake_timeout, error, &io.exit_event())) {
            io.log("TLS with peer " + io.who() + " failed: " + error + "; connection closed.");
            return false;
        }
        node_id_ = socket.tls()->peer_id();
        io.detail("Peer " + io.who() + " has node id " + node_id_ + " (" + socket.tls()->description() + ").");
    }
    // With a secret, nothing of an unproven peer is kept: not its pin, not its id. Without a
    // gate to wait for the proof nobody could check it: refuse rather than serve unproven.
    if (secret) {
        if (!parts_.gate) return false;
        // `this` outlives the callback: the gate and this acceptor belong to the same session's
        // hooks, and the gate moves the callback out before calling it.
        parts_.gate->await_proof([this](SessionIo& proven) { return accept_peer(proven); });
        return true;
    }
    return accept_peer(io);
}

bool HelloAcceptor::accept_peer(SessionIo& io) {
    // The id its HELLO claims must be the node pinned for it, and a node pinned over TLS may
    // not come back in plain bytes.
    Pins* pins = parts_.on.pins;
    if (hello_.id && pins) {
        // Only checked here: a peer proves it listens at an address only when we dial it, so
        // only our own connections pin.
        if (auto refusal = pin_refusal(*pins, *hello_.id, node_id_, false)) {
            io.log("Peer " + io.who() + " refused: " + *refusal + "; connection closed.");
            refuse(io, {verdict::Refusal::Code::pinned, hello_.id->to_string(), 0});
            return false;
        }
    }
    if (const auto until = ban_ends(); until) {
        io.log("Peer " + io.who() + " is banned; connection closed.");
        const auto left = std::chrono::duration_cast<std::chrono::seconds>(*until - Reputation::Clock::now()).count();
        refuse(io, {verdict::Refusal::Code::banned, {}, static_cast<std::uint64_t>(std::max<long long>(left, 1))});
        return false;
    }
    if (wants_verdict() && !io.send(verdict::format_accepted())) return false;
    if (hello_.id) {
        parts_.overlay->on_hello(*hello_.id);
        offer_dht(parts_.on.dht, hello_.id->host, hello_.capabilities);
    }
    return true;
}

std::optional<Reputation::Clock::time_point> HelloAcceptor::ban_ends() const {
    const Reputation* reputation = parts_.on.reputation;
    if (!reputation) return std::nullopt;
    std::optional<Reputation::Clock::time_point> by_id, by_address;
    if (!node_id_.empty()) by_id = reputation->banned(node_id_);
    if (hello_.id && parts_.on.pins) by_address = banned_until(*reputation, *parts_.on.pins, *hello_.id);
    if (by_id && by_address) return std::max(*by_id, *by_address);
    return by_id ? by_id : by_address;
}

}  // namespace

bool is_hello_line(const std::string& line) { return line.rfind("HELLO ", 0) == 0; }

void add_overlay_lines(SessionHooks& hooks, HelloParts parts) {
    auto acceptor = std::make_shared<HelloAcceptor>(std::move(parts));
    const LineHandler handler = [acceptor](SessionIo& io, const std::string& line) {
        return acceptor->on_line(io, line);
    };
    // The forms overlay_protocol.hpp's is_overlay_message() takes: "PEERS" alone is an empty list.
    hooks.add("HELLO", handler);
    hooks.add("PEERS", handler, true);
    hooks.add("QUERY", handler);
    hooks.add("HIT", handler);
}

}  // namespace p2p
