// The overlay's wire messages, byte for byte, without sockets: every form, every refusal.
#define BOOST_TEST_MODULE overlay_protocol
#include <boost/test/unit_test.hpp>

#include "p2p/overlay/handshake.hpp"
#include "p2p/overlay/overlay_protocol.hpp"
#include "p2p/lab/protocol.hpp"

using namespace p2p;
namespace ov = p2p::overlay;
using K = ov::Message::Kind;

namespace {

PeerId id(const std::string& text) {
    std::string error;
    auto p = parse_peer_id(text, "", error);
    BOOST_REQUIRE_MESSAGE(p, text << ": " << error);
    return *p;
}

const std::string qid = "0123456789abcdef0123456789abcdef";

}  // namespace

BOOST_AUTO_TEST_SUITE(unit)

BOOST_AUTO_TEST_CASE(messages_round_trip_byte_for_byte) {
    BOOST_TEST(ov::format_hello(id("127.0.0.1:5000")) == "HELLO 127.0.0.1:5000 overlay/1\n");
    auto h = ov::parse("HELLO [::1]:5001 overlay/1\n");
    BOOST_REQUIRE((h.kind == K::hello));
    BOOST_TEST(h.hello.id.to_string() == "[::1]:5001");

    BOOST_TEST(ov::format_peers({{id("10.0.0.2:5000"), true, 0}, {id("[::1]:7"), false, 42}}) ==
               "PEERS 10.0.0.2:5000*@0 [::1]:7@42\n");
    auto p = ov::parse("PEERS 10.0.0.2:5000*@0 [::1]:7@42");
    BOOST_REQUIRE((p.kind == K::peers));
    BOOST_REQUIRE(p.peers.entries.size() == 2u);
    BOOST_TEST(p.peers.entries[0].neighbour);
    BOOST_TEST(!p.peers.entries[1].neighbour);
    BOOST_TEST(p.peers.entries[1].age == 42u);
    BOOST_TEST((ov::parse("PEERS\n").kind == K::peers));  // knows nobody yet

    BOOST_TEST(ov::format_query({qid, 7, 1, "SkyShip.jpg"}) == "QUERY " + qid + " 7 1 SkyShip.jpg\n");
    auto q = ov::parse("QUERY " + qid + " 7 1 SkyShip.jpg\n");
    BOOST_REQUIRE((q.kind == K::query));
    BOOST_TEST(q.query.ttl == 7u);
    BOOST_TEST(q.query.hops == 1u);
    BOOST_TEST(q.query.filename == "SkyShip.jpg");

    BOOST_TEST(ov::format_hit({qid, 3, id("10.0.0.9:5009"), "a.txt"}) == "HIT " + qid + " 3 10.0.0.9:5009 a.txt\n");
    auto hit = ov::parse("HIT " + qid + " 3 10.0.0.9:5009 a.txt");
    BOOST_REQUIRE((hit.kind == K::hit));
    BOOST_TEST(hit.hit.holder.to_string() == "10.0.0.9:5009");
    BOOST_TEST(hit.hit.hops == 3u);
}

BOOST_AUTO_TEST_CASE(lab_requests_are_not_overlay_messages) {
    for (const char* lab : {"SRCH SkyShip.jpg", "REQ SkyShip.jpg", "SRCH :p2p-ext:1", "XREQ a 0", "HELLOX", "PEERSX a"})
        BOOST_TEST((ov::parse(lab).kind == K::none), lab);
}

BOOST_AUTO_TEST_CASE(malformed_overlay_messages_are_invalid) {
    const std::string too_many = [] {
        std::string s = "PEERS";
        for (int i = 0; i < 33; ++i) s += " 10.0.0.1:" + std::to_string(1000 + i) + "@0";
        return s;
    }();
    for (const std::string& bad : {
             std::string("HELLO 5000 overlay/1"),                    // no host
             std::string("HELLO 127.0.0.1:5000"),                    // no capabilities
             std::string("HELLO 127.0.0.1:5000 OVERLAY/1"),          // capabilities: [a-z0-9/.,-]
             std::string("HELLO 127.0.0.1:5000 a\x1b[2Jb"),          // no escapes for the log
             "HELLO 127.0.0.1:5000 " + std::string(65, 'a'),         // at most 64
             std::string("HELLO 127.0.0.1:5000 overlay/1,dht/1="),   // '=' wants digits
             std::string("HELLO 127.0.0.1:5000 dht/1=,overlay/1"),
             std::string("HELLO 127.0.0.1:5000 dht/1=12a"),          // digits only after '='
             std::string("HELLO 127.0.0.1:5000 dht/1=-1"),
             std::string("HELLO 127.0.0.1:5000 dht/1==5"),           // one '=' per item
             std::string("HELLO 127.0.0.1:5000 dht/1=5=6"),
             std::string("HELLO 127.0.0.1:5000 =5"),                 // a value needs a name
             std::string("HELLO 127.0.0.1:5000 overlay/1,=5"),
             std::string("HELLO 127.0.0.1:5000 dht/1=4222\x1b[2J"),
             "HELLO 127.0.0.1:5000 dht/1=" + std::string(59, '9'),   // at most 64 in all
             std::string("HELLO 224.0.0.1:5000 overlay/1"),          // multicast: never a peer
             std::string("HELLO 0.0.0.0:5000 overlay/1"),            // unspecified
             std::string("PEERS 255.255.255.255:1@0"),               // broadcast
             std::string("PEERS host.example:5000@0"),               // names are not resolved
             std::string("PEERS 10.0.0.1:5000"),                     // no age
             std::string("PEERS 10.0.0.1:5000@-1"),                  // not an age
             std::string("PEERS 10.0.0.1:5000@1234567890"),          // beyond 9 digits
             too_many,                                               // more than 32 ids
             "QUERY " + qid + " 16 1 a.txt",                         // ttl beyond 15
             "QUERY " + qid + " 7 1 ../etc/passwd",                  // not a plain name
             "QUERY " + qid.substr(1) + " 7 1 a.txt",                // a short id
             "QUERY " + std::string(32, 'G') + " 7 1 a.txt",         // not hex
             "QUERY " + qid + " 7 1",                                // no name
             "HIT " + qid + " 3 5009 a.txt",                         // holder without host
             "HIT " + qid + " 99 10.0.0.9:5009 a.txt"}) {
        BOOST_TEST((ov::parse(bad).kind == K::invalid), bad);
    }
}

// A node whose DHT runs lists dht/1=<udp port>; the value is parsed strictly, and a plain name
// still matches only itself.
BOOST_AUTO_TEST_CASE(the_dht_capability_carries_a_strict_port) {
    const std::string caps = "overlay/1,tls/1,dht/1=4222";
    BOOST_TEST(ov::format_hello(id("127.0.0.1:5000"), caps) == "HELLO 127.0.0.1:5000 overlay/1,tls/1,dht/1=4222\n");
    auto h = ov::parse("HELLO 127.0.0.1:5000 overlay/1,tls/1,dht/1=4222\n");
    BOOST_REQUIRE((h.kind == K::hello));
    BOOST_TEST(h.hello.capabilities == caps);
    BOOST_TEST(has_capability(caps, "overlay/1"));
    BOOST_TEST(has_capability(caps, "tls/1"));
    BOOST_TEST(!has_capability(caps, "dht/1"));  // names match exactly, values and all
    BOOST_REQUIRE(capability_value(caps, "dht/1").has_value());
    BOOST_TEST(*capability_value(caps, "dht/1") == "4222");
    BOOST_TEST(!capability_value(caps, "overlay/1"));  // a plain name has no value
    BOOST_TEST(!capability_value(caps, "dht"));
    BOOST_TEST(!capability_value("dht/10=5", "dht/1"));
    BOOST_TEST(*capability_value("dht/1=5,dht/1=6", "dht/1") == "5");  // the first one
    BOOST_TEST(dht_port_of(caps).value_or(0) == 4222);
    BOOST_TEST(dht_port_of("dht/1=1").value_or(0) == 1);
    BOOST_TEST(dht_port_of("dht/1=65535").value_or(0) == 65535);
    // Each hostile value is no port (those that parse as a HELLO at all: the grammar takes
    // digits, the port parse the rest).
    for (const std::string& bad : {std::string("overlay/1,tls/1"), std::string("dht/1"), std::string("dht/1="),
                                   std::string("dht/1=0"), std::string("dht/1=00000"), std::string("dht/1=65536"),
                                   std::string("dht/1=123456"), std::string("dht/1=12a"), std::string("dht/1=-1"),
                                   std::string("dht/1=+80"), std::string("dht/1= 80"), "dht/1=" + std::string(40, '9'),
                                   std::string("xdht/1=80"), std::string("")})
        BOOST_TEST(!dht_port_of(bad), bad);
    for (const std::string& ok : {std::string("overlay/1,dht/1=0"), std::string("dht/1=65536"), "dht/1=" + std::string(58, '9')})
        BOOST_TEST((ov::parse("HELLO 127.0.0.1:5000 " + ok).kind == K::hello), ok);
    // Without a DHT (and TLS, a secret) nothing is added.
    BOOST_TEST(capabilities(nullptr, nullptr, nullptr) == "overlay/1,accept/1");
}

BOOST_AUTO_TEST_CASE(query_ids_are_fresh_hex) {
    const std::string a = ov::new_qid(), b = ov::new_qid();
    BOOST_TEST(a.size() == 32u);
    BOOST_TEST(a != b);
    BOOST_TEST((ov::parse("QUERY " + a + " 1 1 x").kind == K::query));
}

// Whatever arrives, what we forward parses again on the other side: one hostile query with
// hops 15 must not make our neighbours close our link.
BOOST_AUTO_TEST_CASE(a_forwarded_query_always_parses_again) {
    for (unsigned ttl = 0; ttl <= ov::max_ttl; ++ttl)
        for (unsigned hops = 0; hops <= ov::max_ttl; ++hops) {
            const ov::Query q{qid, ttl, hops, "a.txt"};
            const bool ok = ov::acceptable(q);
            BOOST_TEST(ok == (ttl >= 1 && hops >= 1 && ttl + hops <= 16), ttl << "/" << hops);
            if (auto next = ov::next_hop(q)) {
                BOOST_TEST(ok);
                BOOST_TEST((ov::parse(ov::format_query(*next)).kind == K::query), ttl << "/" << hops);
                BOOST_TEST(ov::acceptable(*next));
            }
        }
    BOOST_TEST(!ov::next_hop({qid, 2, 15, "a.txt"}));  // the attack the review found
    BOOST_TEST(!ov::next_hop({qid, 1, 1, "a.txt"}));   // ttl spent
}

BOOST_AUTO_TEST_SUITE_END()
