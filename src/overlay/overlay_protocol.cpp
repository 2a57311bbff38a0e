#include "p2p/overlay/overlay_protocol.hpp"

#include "p2p/lab/file_index.hpp"
#include "p2p/lab/protocol.hpp"
#include "p2p/util/hex.hpp"

#include <openssl/rand.h>

#include <sstream>
#include <stdexcept>

namespace p2p::overlay {
namespace {

std::vector<std::string_view> words_of(std::string_view line) {
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && line[i] == ' ') ++i;
        std::size_t start = i;
        while (i < line.size() && line[i] != ' ') ++i;
        if (i > start) words.push_back(line.substr(start, i - start));
    }
    return words;
}

std::optional<PeerId> full_id(std::string_view text) {
    std::string error;
    // An id on the wire always has its host: no "own host" applies.
    if (text.find(':') == std::string_view::npos) return std::nullopt;
    return parse_peer_id(text, "", error);
}

// Decimal digits only, no sign, at most `limit` (ttl and hops: 15; an age: 9 digits).
bool parse_decimal(std::string_view s, std::uint32_t limit, std::uint32_t& out) {
    if (s.empty() || s.size() > 9) return false;
    std::uint32_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (v > limit) return false;
    out = v;
    return true;
}

bool is_qid(std::string_view s) {
    if (s.size() != qid_size) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

// Capabilities are names like "overlay/1", comma-separated, each maybe with "=<digits>"
// ("dht/1=4222"): a peer cannot put terminal escapes or other bytes in them that the log or
// the trace would print.
bool is_capability_list(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    bool in_value = false;  // after an item's '=': digits only, at least one, up to the next ','
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        const bool digit = c >= '0' && c <= '9';
        if (c == ',') {
            if (in_value && s[i - 1] == '=') return false;
            in_value = false;
        } else if (c == '=') {
            if (in_value || i == 0 || s[i - 1] == ',') return false;  // one value, after a name
            in_value = true;
        } else if (in_value ? !digit : !((c >= 'a' && c <= 'z') || digit || c == '/' || c == '.' || c == '-')) {
            return false;
        }
    }
    return !(in_value && s.back() == '=');
}

}  // namespace

bool is_overlay_message(std::string_view line) {
    if (line == "PEERS") return true;  // an empty list
    for (std::string_view verb : {"HELLO ", "PEERS ", "QUERY ", "HIT "})
        if (line.substr(0, verb.size()) == verb) return true;
    return false;
}

Message parse(std::string_view line) {
    Message m;
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!is_overlay_message(line)) return m;
    m.kind = Message::Kind::invalid;
    auto w = words_of(line);
    if (w[0] == "HELLO") {
        if (w.size() != 3) return m;
        auto id = full_id(w[1]);
        if (!id) return m;
        if (!is_capability_list(w[2])) return m;
        m.hello = {*id, std::string(w[2])};
        m.kind = Message::Kind::hello;
    } else if (w[0] == "PEERS") {
        if (w.size() - 1 > max_gossip_ids) return m;
        for (std::size_t i = 1; i < w.size(); ++i) {
            std::string_view text = w[i];
            // "<id>[*]@<age>": the age keeps a peer's time as it travels, so hearsay passed
            // back and forth never makes a dead peer look fresh.
            const auto at = text.rfind('@');
            if (at == std::string_view::npos) return m;
            std::uint32_t age = 0;
            if (!parse_decimal(text.substr(at + 1), 999999999, age)) return m;
            text = text.substr(0, at);
            const bool star = !text.empty() && text.back() == '*';
            if (star) text.remove_suffix(1);
            auto id = full_id(text);
            if (!id) return m;
            m.peers.entries.push_back({*id, star, age});
        }
        m.kind = Message::Kind::peers;
    } else if (w[0] == "QUERY") {
        if (w.size() != 5 || !is_qid(w[1]) || !parse_decimal(w[2], max_ttl, m.query.ttl) ||
            !parse_decimal(w[3], max_ttl, m.query.hops) || !FileIndex::is_safe_name(w[4]))
            return m;
        m.query.qid = std::string(w[1]);
        m.query.filename = std::string(w[4]);
        m.kind = Message::Kind::query;
    } else if (w[0] == "HIT") {
        if (w.size() != 5 || !is_qid(w[1]) || !parse_decimal(w[2], max_ttl, m.hit.hops) ||
            !FileIndex::is_safe_name(w[4]))
            return m;
        auto holder = full_id(w[3]);
        if (!holder) return m;
        m.hit = {std::string(w[1]), m.hit.hops, *holder, std::string(w[4])};
        m.kind = Message::Kind::hit;
    }
    return m;
}

std::string format_hello(const PeerId& self, std::string_view capabilities) {
    return "HELLO " + self.to_string() + " " + std::string(capabilities) + "\n";
}

std::string format_peers(const std::vector<Peers::Entry>& entries) {
    std::string out = "PEERS";
    for (std::size_t i = 0; i < entries.size() && i < max_gossip_ids; ++i)
        out += " " + entries[i].id.to_string() + (entries[i].neighbour ? "*" : "") + "@" +
               std::to_string(entries[i].age);
    return out + "\n";
}

std::string format_query(const Query& q) {
    return "QUERY " + q.qid + " " + std::to_string(q.ttl) + " " + std::to_string(q.hops) + " " +
           q.filename + "\n";
}

std::string format_hit(const Hit& h) {
    return "HIT " + h.qid + " " + std::to_string(h.hops) + " " + h.holder.to_string() + " " +
           h.filename + "\n";
}

bool acceptable(const Query& q) {
    return q.ttl >= 1 && q.hops >= 1 && q.ttl + q.hops <= max_ttl + 1;
}

std::optional<Query> next_hop(const Query& q) {
    if (!acceptable(q) || q.ttl <= 1) return std::nullopt;
    return Query{q.qid, q.ttl - 1, q.hops + 1, q.filename};
}

std::string new_qid() {
    unsigned char bytes[qid_size / 2];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no random bytes for a query id");
    return to_hex(bytes, sizeof bytes);
}

namespace {

std::string quoted(std::string_view name) { return "\"" + protocol::escape_control(name) + "\""; }

std::string short_qid(const std::string& qid) { return qid.substr(0, 8); }

std::string describe_overlay(const Message& m) {
    switch (m.kind) {
    case Message::Kind::hello:
        return "hello: node " + m.hello.id.to_string() + ", capabilities " + m.hello.capabilities;
    case Message::Kind::peers: {
        std::size_t neighbours = 0;
        for (const auto& e : m.peers.entries) neighbours += e.neighbour ? 1 : 0;
        return "gossip: " + std::to_string(m.peers.entries.size()) + " known peers, " +
               std::to_string(neighbours) + " of them the sender's neighbours";
    }
    case Message::Kind::query:
        return "query " + short_qid(m.query.qid) + ": who has " + quoted(m.query.filename) +
               "? ttl " + std::to_string(m.query.ttl) + ", hops " + std::to_string(m.query.hops);
    case Message::Kind::hit:
        return "hit for query " + short_qid(m.hit.qid) + ": " + quoted(m.hit.filename) + " is on " +
               m.hit.holder.to_string() + " (" + std::to_string(m.hit.hops) + " hops)";
    case Message::Kind::invalid: return "invalid overlay message";
    case Message::Kind::none: break;
    }
    return "unknown message";
}

}  // namespace

std::optional<std::string> describe(std::string_view line) {
    if (!is_overlay_message(line)) return std::nullopt;
    return describe_overlay(parse(line));
}

}  // namespace p2p::overlay
