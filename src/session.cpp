#include "p2p/session.hpp"

#include "p2p/handler.hpp"
#include "p2p/protocol.hpp"
#include "p2p/transfer.hpp"

#include <exception>

namespace p2p {
namespace pr = protocol;

Session::Session(std::shared_ptr<Socket> socket, std::uint16_t peer_id, const FileIndex& index,
                 Output& output, const SessionLimits& limits, const std::atomic<bool>& exit_event,
                 Overlay* overlay)
    : socket_(std::move(socket)), peer_id_(peer_id), index_(index), output_(output),
      limits_(limits), exit_event_(exit_event), reader_(pr::max_request_size), overlay_(overlay) {}

void Session::run() noexcept {
    try {
        // Printed here, not by the listener, so it always comes before this peer's requests.
        output_.server_line("Connection established with peer " + std::to_string(peer_id_));
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
}

void Session::serve() {
    socket_->set_send_timeout(limits_.send_timeout);
    char buf[4096];
    while (!exit_event_.load()) {
        while (auto line = reader_.next_line())
            if (!dispatch(*line)) return;
        if (reader_.overflowed()) {
            output_.server_line("Message from peer " + std::to_string(peer_id_) +
                                " too long; connection closed.");
            std::error_code ignored;
            socket_->write_all(pr::too_long_answer(), ignored);
            return;
        }
        // Unterminated bytes wait only for the quiet window. Otherwise wait for the idle
        // timeout (-1: forever); stop() ends any wait early through Socket::shutdown().
        const auto wait = reader_.has_partial() ? limits_.quiet_window
                        : limits_.idle_timeout.count() > 0 ? limits_.idle_timeout
                        : std::chrono::milliseconds(-1);
        switch (socket_->wait_readable(wait)) {
        case Wait::error: return;
        case Wait::timeout:
            if (!reader_.has_partial()) {
                output_.server_line("Peer " + std::to_string(peer_id_) + " idle; connection closed.");
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
                output_.server_line("Peer " + std::to_string(peer_id_) + " closed connection.");
            return;
        }
        reader_.feed(std::string_view(buf, n));
    }
}

bool Session::dispatch(const std::string& message) {
    const std::string id = std::to_string(peer_id_);
    // One-way overlay lines from one of our nodes' links: nothing is answered on this connection.
    if (overlay_ && overlay::is_overlay_message(message)) {
        const bool first = !link_.from;
        if (first && link_.remote_host.empty()) link_.remote_host = socket_->remote_host();
        if (!overlay_->on_message(link_, message)) {
            output_.server_line("Peer " + id + " sent an invalid or unwanted overlay message; connection closed.");
            return false;
        }
        if (first && link_.from)
            output_.server_line("Peer " + id + " is overlay node " + link_.from->to_string() + ".");
        return true;
    }
    auto parsed = pr::parse_request(message);
    if (parsed.error == pr::ParseError::empty) return true;  // blank line: nothing to answer
    std::error_code ec;
    if (parsed.request && parsed.request->verb == pr::Verb::search &&
        parsed.request->filename == pr::extension_probe) {
        // Every connect from one of our nodes starts with this probe: answer it quietly.
        socket_->write_all(handle_request(*parsed.request, index_).header, ec);
        return !ec;
    }
    output_.server_line("Received message from " + id + ": " + pr::render_bytes(message));
    if (!parsed.request) {
        output_.server_line("Unknown message.");
        socket_->write_all(pr::format_error_answer(parsed.error), ec);
        return !ec;
    }
    Reply reply = handle_request(*parsed.request, index_, &exit_event_);
    if (reply.abandoned) return false;  // closed without an answer; nothing to log at shutdown
    output_.server_line("Response to peer " + id + ":  " + pr::escape_control(reply.log));
    socket_->write_all(reply.header, ec);
    if (!ec && reply.body) send_file(*socket_, *reply.body, reply.body_offset, ec);
    if (ec && !exit_event_.load())
        output_.server_line("Sending to peer " + id + " failed: " + ec.message() + "; connection closed.");
    return !ec;
}

}  // namespace p2p
