#include "p2p/lab/session.hpp"

#include "p2p/lab/handler.hpp"
#include "p2p/overlay/handshake.hpp"
#include "p2p/lab/protocol.hpp"
#include "p2p/swarm/swarm_protocol.hpp"
#include "p2p/swarm/swarm_server.hpp"
#include "p2p/lab/trace.hpp"
#include "p2p/lab/transfer.hpp"

#include <exception>

namespace p2p {
namespace pr = protocol;

Session::Session(std::shared_ptr<Socket> socket, std::uint16_t peer_id, const FileIndex& index,
                 Output& output, const SessionLimits& limits, const std::atomic<bool>& exit_event,
                 const SessionExtensions& ext)
    : socket_(std::move(socket)), name_(std::to_string(peer_id)), index_(index), output_(output),
      limits_(limits), exit_event_(exit_event), reader_(pr::max_request_size), overlay_(ext.overlay),
      secret_(ext.secret), handshake_deadline_(ext.handshake_deadline), proven_(ext.secret == nullptr),
      tls_(ext.tls), pins_(ext.pins), reputation_(ext.reputation), slots_(ext.slots), upload_(ext.upload), indexer_(ext.indexer), dht_(ext.dht) {
    if (ext.trace) socket_->set_trace(ext.trace, PeerId{socket_->remote_host(), peer_id}.to_string());
}

void Session::run() noexcept {
    try {
        // Printed here, not by the listener, so it always comes before this peer's requests.
        output_.server_line("Connection established with peer " + name_);
        serve();
    } catch (const std::exception& e) {
        output_.server_line("Connection with " + who() + " failed: " + e.what());
    } catch (...) {
        output_.server_line("Connection with " + who() + " failed.");
    }
    // The registry keeps the descriptor until it reaps this thread (at the next accept or at
    // stop), so close the connection now: a peer dropped for idling or a too-long line must see
    // the end. shutdown(), not close(): stop_all() may still shut this descriptor down.
    socket_->shutdown();
    if (slots_ && !proven_) slots_->leave(socket_.get());
}

void Session::serve() {
    socket_->set_send_timeout(limits_.send_timeout);
    const auto started = std::chrono::steady_clock::now();
    char buf[4096];
    while (!exit_event_.load()) {
        while (auto line = reader_.next_line())
            if (!dispatch(*line)) return;
        if (reader_.overflowed()) {
            output_.server_line("Message from peer " + name_ +
                                " too long; connection closed.");
            trace_note(*socket_, Trace::Dir::received, "more than " + std::to_string(pr::max_request_size) +
                                                           " bytes without a line end");
            send(pr::too_long_answer());
            return;
        }
        // Unterminated bytes wait only for the quiet window. Otherwise wait for the idle
        // timeout (-1: forever); stop() ends any wait early through Socket::shutdown().
        auto wait = reader_.has_partial() ? limits_.quiet_window
                  : limits_.idle_timeout.count() > 0 ? limits_.idle_timeout
                  : std::chrono::milliseconds(-1);
        // With a secret, a peer that has not proved it gets a few seconds, not the idle
        // timeout: silent connections cannot hold threads an honest peer needs.
        const auto left = handshake_deadline_ - std::chrono::duration_cast<std::chrono::milliseconds>(
                                                    std::chrono::steady_clock::now() - started);
        if (!proven_) wait = wait.count() < 0 ? left : std::min(wait, left);
        if (!proven_ && left.count() <= 0) {
            output_.server_line("Peer " + name_ + " did not prove the network secret in time; connection closed.");
            return;
        }
        switch (socket_->wait_readable(std::max(wait, std::chrono::milliseconds(-1)))) {
        case Wait::error: return;
        case Wait::timeout:
            if (!proven_ && !reader_.has_partial()) continue;  // the deadline check above ends it
            if (!reader_.has_partial()) {
                output_.server_line("Peer " + name_ + " idle; connection closed.");
                return;
            }
            if (!dispatch(reader_.take_partial())) return;
            continue;
        case Wait::ready: break;
        }
        std::error_code ec;
        std::size_t n = socket_->read_some(buf, sizeof buf, ec);
        if (ec || n == 0) {
            if (!exit_event_.load())
                output_.server_line("Peer " + name_ + " closed connection.");
            return;
        }
        reader_.feed(std::string_view(buf, n));
    }
}

bool Session::dispatch(const std::string& message) {
    auto parsed = pr::parse_request(message);
    if (parsed.error == pr::ParseError::empty) return true;  // blank line: nothing to answer
    trace(*socket_, Trace::Dir::received, message);
    const bool probe = parsed.request && parsed.request->verb == pr::Verb::search &&
                       parsed.request->filename == pr::extension_probe;
    if (!proven_) {
        // Before the proof only the handshake's steps: no answer, no file byte, no overlay line.
        if (awaiting_proof_) return dispatch_proof(message);
        if (!probe && !(overlay_ && message.rfind("HELLO ", 0) == 0)) {
            output_.server_line("Peer " + name_ + " has not proved the network secret: nothing is served; "
                                "connection closed.");
            return false;
        }
    }
    if (overlay_ && overlay::is_overlay_message(message)) return dispatch_overlay(message);
    if (swarm::is_swarm_message(message)) return dispatch_swarm(message);

    std::error_code ec;
    if (probe) {
        // Every connect from one of our nodes starts with this probe: answer it quietly.
        return send(handle_request(*parsed.request, index_).header);
    }
    output_.server_line("Received message from " + name_ + ": " + pr::render_bytes(message));
    if (!parsed.request) {
        output_.server_line("Unknown message.");
        return send(pr::format_error_answer(parsed.error));
    }
    Reply reply = handle_request(*parsed.request, index_, indexer_);
    output_.server_line("Response to peer " + name_ + ":  " + pr::escape_control(reply.log));
    socket_->write_all(reply.header, ec);
    if (!ec) trace(*socket_, Trace::Dir::sent, reply.header);
    if (!ec && reply.body) {
        std::string digest;
        if (reply.digest_after) digest = send_file_hashing(*socket_, *reply.body, reply.body_offset, ec, upload_, &exit_event_);
        else send_file(*socket_, *reply.body, reply.body_offset, ec, upload_, &exit_event_);
        if (!ec) trace_note(*socket_, Trace::Dir::sent, "file data: " +
                            std::to_string(reply.body->size() - reply.body_offset) + " bytes");
        if (!ec && reply.digest_after) {
            socket_->write_all(digest + "\n", ec);
            if (!ec) trace_note(*socket_, Trace::Dir::sent, "SHA-256 of the file: " + digest);
        }
    }
    if (ec && !exit_event_.load())
        output_.server_line("Sending to peer " + name_ + " failed: " + ec.message() + "; connection closed.");
    return !ec;
}

bool Session::dispatch_swarm(const std::string& message) {
    SwarmReply reply = answer_swarm_request(message, index_, indexer_);
    // Manifests are logged; chunks are not (a file has thousands; --trace shows each).
    if (!reply.log.empty() && !reply.body) {
        output_.server_line("Received message from " + name_ + ": " + pr::render_bytes(message));
        output_.server_line("Response to peer " + name_ + ":  " + pr::escape_control(reply.log));
    }
    std::error_code sent;
    socket_->write_all(reply.header, sent);
    if (sent) return false;
    // A manifest's digests are binary: the trace shows its line and how many follow.
    const std::size_t line = reply.header.find('\n') + 1;
    trace(*socket_, Trace::Dir::sent, reply.header.substr(0, line));
    if (line < reply.header.size())
        trace_note(*socket_, Trace::Dir::sent, "manifest: " + std::to_string((reply.header.size() - line) / 32) +
                                                   " chunk digests");
    if (reply.body) {
        std::error_code ec;
        send_file_range(*socket_, *reply.body, reply.offset, reply.length, ec, upload_, &exit_event_);
        if (ec) {
            if (!exit_event_.load())
                output_.server_line("Sending to peer " + name_ + " failed: " + ec.message() + "; connection closed.");
            return false;
        }
        trace_note(*socket_, Trace::Dir::sent, "chunk data: " + std::to_string(reply.length) + " bytes");
    }
    return !reply.close;
}

bool Session::send(const std::string& bytes) {
    std::error_code ec;
    socket_->write_all(bytes, ec);
    if (!ec) trace(*socket_, Trace::Dir::sent, bytes);
    return !ec;
}

bool Session::dispatch_overlay(const std::string& message) {
    const auto m = overlay::parse(message);
    const bool hello = m.kind == overlay::Message::Kind::hello;
    // A HELLO is the handshake's accepting half (answered with ours below); the rest is the
    // overlay's.
    if (hello ? !accept_hello(m.hello, socket_->remote_host(), overlay_->self(), hello_)
              : !overlay_->on_message(link_, message)) {
        output_.server_line("Peer " + name_ + " sent an invalid or unwanted overlay message; connection closed.");
        return false;
    }
    if (!hello) return true;
    // From now on the peer goes by its listening id.
    const std::string caps = pr::escape_control(hello_.capabilities);
    if (hello_.id) {
        output_.server_line("Peer " + name_ + " is node " + hello_.id->to_string() + " (" + caps + ").");
        name_ = hello_.id->to_string();
        link_.from = hello_.id;
        socket_->rename_trace_peer(name_);
    } else {
        output_.server_line("Peer " + name_ + " is one of our nodes (" + caps + "), but its HELLO names "
                            "another host than " + socket_->remote_host() + "; its id is not taken.");
    }
    if (!send(overlay::format_hello(overlay_->self(), capabilities(tls_, secret_, dht_)))) return false;
    if (secret_ && !(wants_tls(tls_, hello_.capabilities) &&
                     has_capability(hello_.capabilities, NetworkSecret::capability))) {
        output_.server_line("Peer " + name_ + " has no network secret (its HELLO lists no secret/1 over TLS); "
                            "connection closed.");
        return false;
    }
    if (wants_tls(tls_, hello_.capabilities)) {
        // Both listed tls/1: from the next byte on, TLS (the peer is the client). Plain bytes
        // already behind the HELLO would be taken as if they came inside TLS (the STARTTLS
        // injection of CVE-2011-0411): an honest peer sends none, so refuse.
        if (reader_.has_partial()) {
            output_.server_line("Peer " + name_ + " sent bytes after its HELLO before TLS; connection closed.");
            return false;
        }
        std::string error;
        if (!socket_->start_tls(*tls_, TlsLayer::Role::server, tls_handshake_timeout, error, &exit_event_)) {
            output_.server_line("TLS with peer " + name_ + " failed: " + error + "; connection closed.");
            return false;
        }
        node_id_ = socket_->tls()->peer_id();
        output_.server_line("Peer " + name_ + " has node id " + node_id_ + " (" + socket_->tls()->description() + ").");
    }
    // With a secret, nothing of an unproven peer is kept: not its pin, not its id.
    awaiting_proof_ = secret_ != nullptr;
    return awaiting_proof_ || accept_peer();
}

bool Session::accept_peer() {
    // The id its HELLO claims must be the node pinned for it, and a node pinned over TLS may
    // not come back in plain bytes.
    if (hello_.id && pins_) {
        // Only checked here: a peer proves it listens at an address only when we dial it, so
        // only our own connections pin.
        if (auto refusal = pin_refusal(*pins_, *hello_.id, node_id_, false)) {
            output_.server_line("Peer " + name_ + " refused: " + *refusal + "; connection closed.");
            return false;
        }
    }
    if (reputation_ && ((!node_id_.empty() && reputation_->banned(node_id_)) ||
                        (hello_.id && pins_ && is_banned(*reputation_, *pins_, *hello_.id)))) {
        output_.server_line("Peer " + name_ + " is banned; connection closed.");
        return false;
    }
    if (hello_.id) {
        overlay_->on_hello(*hello_.id);
        offer_dht(dht_, hello_.id->host, hello_.capabilities);
    }
    return true;
}

bool Session::dispatch_proof(const std::string& message) {
    const TlsLayer* tls = socket_->tls();
    if (!tls || !secret_->check(*tls, NetworkSecret::Role::client, message)) {
        output_.server_line("Peer " + name_ + " did not prove the network secret; nothing is served; "
                            "connection closed.");
        return false;
    }
    awaiting_proof_ = false;
    proven_ = true;
    if (slots_) slots_->leave(socket_.get());
    output_.server_line("Peer " + name_ + " proved the network secret.");
    return send(secret_->proof_line(*tls, NetworkSecret::Role::server)) && accept_peer();
}

}  // namespace p2p
