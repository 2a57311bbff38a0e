// One accepted peer: the read -> dispatch -> write loop of its handler thread.
#pragma once

#include "p2p/lab/file_index.hpp"
#include "p2p/lab/handler.hpp"
#include "p2p/lab/line_reader.hpp"
#include "p2p/lab/session_hooks.hpp"
#include "p2p/net/rate_limit.hpp"
#include "p2p/net/peer_id.hpp"
#include "p2p/net/socket.hpp"
#include "p2p/lab/trace.hpp"
#include "p2p/util/output.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
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

/// What a session of ours has beyond the lab's: each may be null or empty (a plain lab server).
struct SessionExtensions {
    const Trace* trace = nullptr;             ///< told every message
    RateLimit* upload = nullptr;              ///< paid for every file byte sent
    const FileDigests* digests = nullptr;     ///< XREQ's SHA-256 without hashing (handler.hpp)
    SessionHooks hooks;                       ///< the lines of our capabilities, and the gate
};

class Session {
public:
    Session(std::shared_ptr<Socket> socket, std::uint16_t peer_id, const FileIndex& index,
            Output& output, const SessionLimits& limits, const std::atomic<bool>& exit_event,
            SessionExtensions extensions = {});

    /// Serves requests until the peer closes, misbehaves, idles out or the node stops, then
    /// shuts the connection down so the peer sees the end. Never throws.
    void run() noexcept;

private:
    void serve();
    /// Answers one message; false when the connection must end.
    bool dispatch(const std::string& message);
    /// SRCH, REQ and XREQ: the lab's requests (handler.hpp), and the file that follows.
    bool answer(const protocol::Request& request);
    bool gate_open() const { return !hooks_.gate || hooks_.gate->open(); }

    std::shared_ptr<Socket> socket_;
    const FileIndex& index_;
    SessionLimits limits_;
    const std::atomic<bool>& exit_event_;
    LineReader reader_;
    SessionIo io_;
    RateLimit* upload_;  ///< the node's upload limit; null: none
    const FileDigests* digests_;
    SessionHooks hooks_;
};

}  // namespace p2p
