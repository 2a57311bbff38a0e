// The seam between the lab's session and the capabilities of our own nodes.
//
// A line that is not the lab's goes to the handler registered for its first word (HELLO,
// PEERS, XMAN...); a gate may hold back everything else until the peer proved something (the
// network secret). The lab's node registers nothing: its session is the lab's loop alone. A new
// capability adds its handlers here from its own folder (node/session_capabilities.cpp).
#pragma once

#include "p2p/lab/line_reader.hpp"
#include "p2p/net/socket.hpp"
#include "p2p/util/output.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace p2p {

/// The connection one session serves, as the session and its handlers use it (one thread).
class SessionIo {
public:
    SessionIo(Socket& socket, Output& output, const LineReader& reader, const std::atomic<bool>& exit_event,
              std::string name)
        : socket_(socket), output_(output), reader_(reader), exit_event_(exit_event), name_(std::move(name)) {}

    Socket& socket() { return socket_; }
    /// How the lab's lines name the peer: its ephemeral port, as the lab does, for the whole
    /// session.
    const std::string& name() const { return name_; }
    /// How our own lines and the trace name it: its listening id once its HELLO said it
    /// (known_as), the lab's name before.
    const std::string& who() const { return node_.empty() ? name_ : node_; }
    void known_as(std::string node);
    /// One server line (--quiet silences it).
    void log(const std::string& line) { output_.server_line(line); }
    /// One detail line: the log file, the console only with --verbose (output.hpp).
    void detail(const std::string& line) { output_.detail_line(line); }
    /// Writes and traces; false when the connection failed.
    bool send(const std::string& bytes);
    /// Bytes already read behind the line being handled (none, before TLS starts).
    bool has_unread_bytes() const { return reader_.has_partial(); }
    const std::atomic<bool>& exit_event() const { return exit_event_; }
    bool stopping() const { return exit_event_.load(); }

private:
    Socket& socket_;
    Output& output_;
    const LineReader& reader_;
    const std::atomic<bool>& exit_event_;
    std::string name_;
    std::string node_;  ///< known_as()
};

/// Answers one line; false when the connection must end.
using LineHandler = std::function<bool(SessionIo& io, const std::string& line)>;

/// Holds back an unproven peer: until open(), only the lines it lets through are served.
class SessionGate {
public:
    virtual ~SessionGate() = default;
    /// True once the peer may be served everything.
    virtual bool open() const = 0;
    /// A line while closed (`probe`: the lab's extension probe). nullopt: served as usual (a
    /// step of the handshake); otherwise handled here, and whether the connection goes on.
    virtual std::optional<bool> hold(SessionIo& io, const std::string& line, bool probe) = 0;
    /// While closed: how long after the session's start the peer has to open it.
    virtual std::chrono::milliseconds deadline() const = 0;
    /// The deadline passed with the gate closed (the session then ends).
    virtual void expired(SessionIo& io) = 0;
    /// The session ended, open or not.
    virtual void ended(SessionIo& io) = 0;
};

/// One session's handlers, keyed by a line's first word, and its gate (null: always open).
class SessionHooks {
public:
    // One session's: its handlers and gate keep that peer's state, so a copy would share it.
    SessionHooks() = default;
    SessionHooks(const SessionHooks&) = delete;
    SessionHooks& operator=(const SessionHooks&) = delete;
    SessionHooks(SessionHooks&&) = default;
    SessionHooks& operator=(SessionHooks&&) = default;

    /// `verb`'s lines go to `handler`: the verb alone when `bare`, or followed by one of
    /// `separators` and more (the exact forms its protocol defines; others stay the lab's).
    void add(std::string verb, LineHandler handler, bool bare = false, std::string separators = " ");
    /// The handler of `line`, or null: the line is the lab's.
    const LineHandler* find(std::string_view line) const;

    std::shared_ptr<SessionGate> gate;

private:
    struct Route {
        LineHandler handler;
        bool bare;
        std::string separators;
    };
    std::map<std::string, Route, std::less<>> routes_;
};

}  // namespace p2p
