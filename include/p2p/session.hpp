// One accepted peer: the read -> dispatch -> write loop of its handler thread.
#pragma once

#include "p2p/file_index.hpp"
#include "p2p/handshake.hpp"
#include "p2p/line_reader.hpp"
#include "p2p/output.hpp"
#include "p2p/overlay.hpp"
#include "p2p/pins.hpp"
#include "p2p/socket.hpp"
#include "p2p/trace.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace p2p {

/// Time limits of a session.
struct SessionLimits {
    /// Bytes without '\n' become a request after this pause (lab peers send no terminator).
    std::chrono::milliseconds quiet_window{25};
    /// A peer that sends nothing for this long is dropped (0 = never).
    std::chrono::milliseconds idle_timeout{std::chrono::minutes(5)};
    /// A peer that stops reading an answer for this long is dropped.
    std::chrono::milliseconds send_timeout{std::chrono::seconds(30)};
};

class Session {
public:
    /// `overlay` (may be null) takes the handshake's HELLO and the overlay lines from our
    /// nodes; `trace` (may be null) is told every message; `tls` (may be null: plain only)
    /// answers a HELLO that lists tls/1; `pins` (may be null) checks the id a HELLO names.
    Session(std::shared_ptr<Socket> socket, std::uint16_t peer_id, const FileIndex& index,
            Output& output, const SessionLimits& limits, const std::atomic<bool>& exit_event,
            Overlay* overlay = nullptr, const Trace* trace = nullptr, const TlsContext* tls = nullptr,
            Pins* pins = nullptr);

    /// Serves requests until the peer closes, misbehaves, idles out or the node stops, then
    /// shuts the connection down so the peer sees the end. Never throws.
    void run() noexcept;

private:
    void serve();
    /// Answers one message; false when the connection must end.
    bool dispatch(const std::string& message);
    /// HELLO (answered with ours: the accepting half of handshake.hpp), PEERS, QUERY, HIT.
    bool dispatch_overlay(const std::string& message);
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
    /// One of our nodes: what its HELLO said (nothing for a lab peer), and its overlay state.
    PeerHello hello_;
    const TlsContext* tls_;
    Pins* pins_;
    std::string node_id_;  ///< proved by its certificate, over TLS
    OverlayConnection link_;
};

}  // namespace p2p
