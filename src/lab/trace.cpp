#include "p2p/lab/trace.hpp"

#include "p2p/overlay/overlay_protocol.hpp"
#include "p2p/lab/protocol.hpp"

namespace p2p {
namespace pr = protocol;
namespace ov = overlay;

namespace {

std::string quoted(std::string_view name) { return "\"" + pr::escape_control(name) + "\""; }

std::string short_qid(const std::string& qid) { return qid.substr(0, 8); }

std::string describe_overlay(const ov::Message& m) {
    switch (m.kind) {
    case ov::Message::Kind::hello:
        return "hello: node " + m.hello.id.to_string() + ", capabilities " + m.hello.capabilities;
    case ov::Message::Kind::peers: {
        std::size_t neighbours = 0;
        for (const auto& e : m.peers.entries) neighbours += e.neighbour ? 1 : 0;
        return "gossip: " + std::to_string(m.peers.entries.size()) + " known peers, " +
               std::to_string(neighbours) + " of them the sender's neighbours";
    }
    case ov::Message::Kind::query:
        return "query " + short_qid(m.query.qid) + ": who has " + quoted(m.query.filename) +
               "? ttl " + std::to_string(m.query.ttl) + ", hops " + std::to_string(m.query.hops);
    case ov::Message::Kind::hit:
        return "hit for query " + short_qid(m.hit.qid) + ": " + quoted(m.hit.filename) + " is on " +
               m.hit.holder.to_string() + " (" + std::to_string(m.hit.hops) + " hops)";
    case ov::Message::Kind::invalid: return "invalid overlay message";
    case ov::Message::Kind::none: break;
    }
    return "unknown message";
}

std::string describe_request(const pr::Request& r) {
    switch (r.verb) {
    case pr::Verb::search:
        if (r.filename == pr::extension_probe) return "extension probe: are you one of our nodes?";
        return "search: is " + quoted(r.filename) + " shared?";
    case pr::Verb::request: return "request (lab): send " + quoted(r.filename);
    case pr::Verb::ext_request:
        return "request (extension): send " + quoted(r.filename) + " from byte " + std::to_string(r.offset);
    }
    return "request";
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

}  // namespace

std::string describe(std::string_view bytes) {
    // An extension answer is complete with its '\n' only; the rest is read without it.
    const auto ext = pr::parse_ext_answer(bytes);
    std::string_view message = bytes;
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.remove_suffix(1);
    if (ov::is_overlay_message(message)) return describe_overlay(ov::parse(message));
    if (starts_with(message, "PROOF ")) return "proof of the network secret, bound to this TLS session";
    if (starts_with(message, "150 ")) return "answer: found";
    if (starts_with(message, "450 ")) return "answer: not found";
    if (starts_with(message, "250 ")) return "answer: found, the file follows";
    if (starts_with(message, "550 ")) return "answer: not found";
    if (starts_with(message, "421 ")) return "answer: busy, try again later";
    if (starts_with(message, "4") || starts_with(message, "5")) {
        if (ext.kind == pr::ExtAnswer::Kind::not_found) return "answer: not found";
        if (ext.kind == pr::ExtAnswer::Kind::bad_offset)
            return "answer: offset beyond the end, the file has " + std::to_string(ext.size) + " bytes";
        return "answer: error";
    }
    if (starts_with(message, "260 ")) {
        if (ext.kind == pr::ExtAnswer::Kind::found)
            return "answer: the file follows, " + std::to_string(ext.size) + " bytes in all, SHA-256 " +
                   ext.sha256.substr(0, 16) + "...";
    }
    const auto parsed = pr::parse_request(message);
    if (parsed.request) return describe_request(*parsed.request);
    return "unknown message";
}

void Trace::message(Dir dir, const std::string& peer, std::string_view bytes) const {
    note(dir, peer, pr::render_bytes(bytes) + "  " + describe(bytes));
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
