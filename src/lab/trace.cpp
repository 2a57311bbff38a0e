#include "p2p/lab/trace.hpp"

#include "p2p/lab/protocol.hpp"

namespace p2p {

void Trace::message(Dir dir, const std::string& peer, std::string_view bytes) const {
    note(dir, peer, protocol::render_bytes(bytes) + "  " + describe_(bytes));
}

void Trace::note(Dir dir, const std::string& peer, const std::string& what) const {
    output_.server_line(std::string("trace ") + (dir == Dir::sent ? "-> " : "<- ") + peer + "  " + what);
}

void trace(const Socket& socket, Trace::Dir dir, std::string_view bytes) {
    const auto& tag = socket.trace_tag();
    if (tag.trace) tag.trace->message(dir, tag.peer, bytes);
}

void trace_note(const Socket& socket, Trace::Dir dir, const std::string& what) {
    const auto& tag = socket.trace_tag();
    if (tag.trace) tag.trace->note(dir, tag.peer, what);
}

}  // namespace p2p
