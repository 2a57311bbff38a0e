#include "p2p/swarm/swarm_session.hpp"

#include "p2p/lab/protocol.hpp"
#include "p2p/lab/transfer.hpp"
#include "p2p/lab/trace.hpp"
#include "p2p/swarm/swarm_protocol.hpp"
#include "p2p/swarm/swarm_server.hpp"

namespace p2p {
namespace pr = protocol;

namespace {

bool answer(SessionIo& io, const std::string& message, const FileIndex& index, const Indexer* indexer,
            RateLimit* upload) {
    SwarmReply reply = answer_swarm_request(message, index, indexer);
    // Manifests are logged; chunks are not (a file has thousands; --trace shows each).
    if (!reply.log.empty() && !reply.body) {
        io.log("Received message from " + io.name() + ": " + pr::render_bytes(message));
        io.log("Response to peer " + io.name() + ":  " + pr::escape_control(reply.log));
    }
    Socket& socket = io.socket();
    std::error_code sent;
    socket.write_all(reply.header, sent);
    if (sent) return false;
    // A manifest's digests are binary: the trace shows its line and how many follow.
    const std::size_t line = reply.header.find('\n') + 1;
    trace(socket, Trace::Dir::sent, reply.header.substr(0, line));
    if (line < reply.header.size())
        trace_note(socket, Trace::Dir::sent, "manifest: " + std::to_string((reply.header.size() - line) / 32) +
                                                 " chunk digests");
    if (reply.body) {
        std::error_code ec;
        send_file_range(socket, *reply.body, reply.offset, reply.length, ec, upload, &io.exit_event());
        if (ec) {
            if (!io.stopping())
                io.log("Sending to peer " + io.name() + " failed: " + ec.message() + "; connection closed.");
            return false;
        }
        trace_note(socket, Trace::Dir::sent, "chunk data: " + std::to_string(reply.length) + " bytes");
    }
    return !reply.close;
}

}  // namespace

void add_swarm_lines(SessionHooks& hooks, const FileIndex& index, const Indexer* indexer, RateLimit* upload) {
    const LineHandler handler = [&index, indexer, upload](SessionIo& io, const std::string& line) {
        return answer(io, line, index, indexer, upload);
    };
    for (const std::string_view verb : {swarm::manifest_verb, swarm::chunk_verb})
        hooks.add(std::string(verb), handler, true, " \t");
}

}  // namespace p2p
