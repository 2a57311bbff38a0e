// --trace: one line per wire message sent or received, with the peer and what the message
// means, for people learning the protocol:
//
//   trace -> 127.0.0.1:5003  b'SRCH SkyShip.jpg\n'  search: is "SkyShip.jpg" shared?
//   trace <- 127.0.0.1:5003  b'150 SkyShip.jpg found.'  answer: found
//
// The tag (which Trace, which peer) rides on the connection's Socket, so the code that writes or
// reads a message traces it without knowing who asked for tracing; an untagged socket costs a
// null check. Trace lines are server lines: --quiet silences them too. What a message means is
// the protocols' own business: the node hands the Trace one function that asks each of them
// (node/wire_description.hpp).
#pragma once

#include "p2p/util/output.hpp"
#include "p2p/net/socket.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace p2p {

class Trace {
public:
    enum class Dir { sent, received };
    /// What a message means ("search: is \"a\" shared?"); pure.
    using Describe = std::function<std::string(std::string_view message)>;
    Trace(Output& output, Describe describe) : output_(output), describe_(std::move(describe)) {}

    /// One wire message, shown byte for byte and decoded.
    void message(Dir dir, const std::string& peer, std::string_view bytes) const;
    /// Something that is not a message line (a file body, a binary header), already decoded.
    void note(Dir dir, const std::string& peer, const std::string& what) const;

private:
    Output& output_;
    const Describe describe_;
};

/// Traces through the socket's tag; nothing when it has none.
void trace(const Socket& socket, Trace::Dir dir, std::string_view bytes);
void trace_note(const Socket& socket, Trace::Dir dir, const std::string& what);

}  // namespace p2p
