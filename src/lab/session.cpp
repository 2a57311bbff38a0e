#include "p2p/lab/session.hpp"

#include "p2p/lab/handler.hpp"
#include "p2p/lab/protocol.hpp"
#include "p2p/lab/transfer.hpp"
#include "p2p/lab/trace.hpp"

#include <exception>

namespace p2p {
namespace pr = protocol;

Session::Session(std::shared_ptr<Socket> socket, std::uint16_t peer_id, const FileIndex& index,
                 Output& output, const SessionLimits& limits, const std::atomic<bool>& exit_event,
                 SessionExtensions ext)
    : socket_(std::move(socket)), index_(index), limits_(limits), exit_event_(exit_event),
      reader_(pr::max_request_size), io_(*socket_, output, reader_, exit_event, std::to_string(peer_id)),
      upload_(ext.upload), digests_(ext.digests), hooks_(std::move(ext.hooks)) {
    if (ext.trace) socket_->set_trace(ext.trace, PeerId{socket_->remote_host(), peer_id}.to_string());
}

void Session::run() noexcept {
    try {
        // Printed here, not by the listener, so it always comes before this peer's requests.
        io_.log("Connection established with peer " + io_.name());
        serve();
    } catch (const std::exception& e) {
        io_.log("Connection with peer " + io_.name() + " failed: " + e.what());
    } catch (...) {
        io_.log("Connection with peer " + io_.name() + " failed.");
    }
    // The registry keeps the descriptor until it reaps this thread (at the next accept or at
    // stop), so close the connection now: a peer dropped for idling or a too-long line must see
    // the end. shutdown(), not close(): stop_all() may still shut this descriptor down.
    socket_->shutdown();
    if (hooks_.gate) hooks_.gate->ended(io_);
}

void Session::serve() {
    socket_->set_send_timeout(limits_.send_timeout);
    const auto started = std::chrono::steady_clock::now();
    char buf[4096];
    while (!exit_event_.load()) {
        while (auto line = reader_.next_line())
            if (!dispatch(*line)) return;
        if (reader_.overflowed()) {
            io_.log("Message from peer " + io_.name() + " too long; connection closed.");
            trace_note(*socket_, Trace::Dir::received, "more than " + std::to_string(pr::max_request_size) +
                                                           " bytes without a line end");
            io_.send(pr::too_long_answer());
            return;
        }
        // Unterminated bytes wait only for the quiet window. Otherwise wait for the idle
        // timeout (-1: forever); stop() ends any wait early through Socket::shutdown().
        auto wait = reader_.has_partial() ? limits_.quiet_window
                  : limits_.idle_timeout.count() > 0 ? limits_.idle_timeout
                  : std::chrono::milliseconds(-1);
        // A gate (the network secret) gives an unproven peer a few seconds, not the idle
        // timeout: silent connections cannot hold threads an honest peer needs.
        const bool open = gate_open();
        if (!open) {
            const auto left = hooks_.gate->deadline() - std::chrono::duration_cast<std::chrono::milliseconds>(
                                                            std::chrono::steady_clock::now() - started);
            if (left.count() <= 0) {
                hooks_.gate->expired(io_);
                return;
            }
            wait = wait.count() < 0 ? left : std::min(wait, left);
        }
        switch (socket_->wait_readable(std::max(wait, std::chrono::milliseconds(-1)))) {
        case Wait::error: return;
        case Wait::timeout:
            if (!open && !reader_.has_partial()) continue;  // the deadline check above ends it
            if (!reader_.has_partial()) {
                io_.log("Peer " + io_.name() + " idle; connection closed.");
                return;
            }
            if (!dispatch(reader_.take_partial())) return;
            continue;
        case Wait::ready: break;
        }
        std::error_code ec;
        std::size_t n = socket_->read_some(buf, sizeof buf, ec);
        if (ec || n == 0) {
            if (!exit_event_.load()) io_.log("Peer " + io_.name() + " closed connection.");
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
    if (!gate_open())
        if (const auto held = hooks_.gate->hold(io_, message, probe)) return *held;
    if (const LineHandler* handler = hooks_.find(message)) return (*handler)(io_, message);

    if (probe) {
        // Every connect from one of our nodes starts with this probe: answer it quietly.
        return io_.send(handle_request(*parsed.request, index_).header);
    }
    io_.log("Received message from " + io_.name() + ": " + pr::render_bytes(message));
    if (!parsed.request) {
        io_.log("Unknown message.");
        return io_.send(pr::format_error_answer(parsed.error));
    }
    return answer(*parsed.request);
}

bool Session::answer(const pr::Request& request) {
    Reply reply = handle_request(request, index_, digests_);
    io_.log("Response to peer " + io_.name() + ":  " + pr::escape_control(reply.log));
    std::error_code ec;
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
        io_.log("Sending to peer " + io_.name() + " failed: " + ec.message() + "; connection closed.");
    return !ec;
}

}  // namespace p2p
