// The overlay's wire messages, between our nodes only: one line each, '\n'-terminated, one-way
// (no message waits for an answer on the connection it came on). A link starts like every
// connection of ours - the lab's bytes "SRCH :p2p-ext:1", answered "150 ... found." - so a lab
// peer never receives any of these. Pure: parse and format, no I/O.
//
//   HELLO <id> <capabilities>             the handshake (handshake.hpp): the sender's listening
//                                         id and capabilities ("overlay/1,dht/1=4222":
//                                         [a-z0-9/.,-] with "=<digits>" ending an item, 1-64)
//   PEERS <id>[*]@<age> ...               up to max_gossip_ids peers; '*': a neighbour of the
//                                         sender; age: seconds since the sender last heard of it
//   QUERY <qid> <ttl> <hops> <filename>   a search: 32 hex qid, ttl 0..15, hops 0..15
//   HIT <qid> <hops> <holder-id> <filename>   travels back along the query's path
#pragma once

#include "p2p/net/peer_id.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace p2p::overlay {

constexpr std::string_view capability = "overlay/1";
constexpr std::size_t max_gossip_ids = 32;   ///< ids per PEERS message
constexpr unsigned default_ttl = 7;          ///< as Gnutella servents
constexpr unsigned max_ttl = 15;             ///< the hard limit; a larger ttl is cut to it
constexpr std::size_t qid_size = 32;         ///< hex characters: 16 random bytes

struct Hello { PeerId id; std::string capabilities; };
struct Peers {
    struct Entry {
        PeerId id;
        bool neighbour = false;
        std::uint32_t age = 0;  ///< seconds since the sender saw it (or first heard of it)
    };
    std::vector<Entry> entries;
};
struct Query { std::string qid; std::uint32_t ttl = 0, hops = 0; std::string filename; };
struct Hit { std::string qid; std::uint32_t hops = 0; PeerId holder; std::string filename; };

/// One parsed message; `kind` none when the line is not an overlay message at all (then it is
/// a lab request and goes to the handler), invalid when it is one of ours but malformed.
struct Message {
    enum class Kind { none, invalid, hello, peers, query, hit } kind = Kind::none;
    Hello hello;
    Peers peers;
    Query query;
    Hit hit;
};

/// True when the line starts with one of the four verbs above.
bool is_overlay_message(std::string_view line);
Message parse(std::string_view line);

/// `capabilities`: comma-separated, as handshake.hpp's capabilities().
std::string format_hello(const PeerId& self, std::string_view capabilities = capability);
/// At most max_gossip_ids entries are written; the rest are left out.
std::string format_peers(const std::vector<Peers::Entry>& entries);
std::string format_query(const Query& q);
std::string format_hit(const Hit& h);

/// Whether a received query may be handled at all: ttl >= 1, hops >= 1, and ttl + hops within
/// max_ttl + 1 (the origin sends ttl T with hops 1; each hop trades one for the other).
bool acceptable(const Query& q);
/// The query to forward one hop further (ttl - 1, hops + 1), if its ttl allows; it always
/// parses again on the other side.
std::optional<Query> next_hop(const Query& q);

/// A fresh random query id (OpenSSL's RAND_bytes).
std::string new_qid();

/// What an overlay line means, for --trace ("query 1a2b3c4d: who has ..."); nullopt when it
/// is not one. Pure.
std::optional<std::string> describe(std::string_view line);

}  // namespace p2p::overlay
