// The trace's decoding and the handshake's capability list, without sockets: each kind of
// message the node sends or receives gets one meaning.
#define BOOST_TEST_MODULE trace
#include <boost/test/unit_test.hpp>

#include "p2p/overlay/handshake.hpp"
#include "p2p/lab/protocol.hpp"
#include "p2p/lab/trace.hpp"
#include "p2p/node/wire_description.hpp"

#include <sstream>

namespace pr = p2p::protocol;

BOOST_AUTO_TEST_CASE(lab_requests_and_answers) {
    BOOST_TEST(p2p::describe("SRCH SkyShip.jpg") == "search: is \"SkyShip.jpg\" shared?");
    BOOST_TEST(p2p::describe("SRCH SkyShip.jpg\n") == "search: is \"SkyShip.jpg\" shared?");
    BOOST_TEST(p2p::describe("REQ a.txt") == "request (lab): send \"a.txt\"");
    BOOST_TEST(p2p::describe(pr::format_search_answer(true, "a")) == "answer: found");
    BOOST_TEST(p2p::describe(pr::format_search_answer(false, "a")) == "answer: not found");
    BOOST_TEST(p2p::describe(pr::format_status_field(true, "a")) == "answer: found, the file follows");
    BOOST_TEST(p2p::describe(pr::format_status_field(false, "a")) == "answer: not found");
    BOOST_TEST(p2p::describe(pr::busy_answer()) == "answer: busy, try again later");
    BOOST_TEST(p2p::describe(pr::too_long_answer()) == "answer: error");
    BOOST_TEST(p2p::describe("hello there") == "unknown message");
}

BOOST_AUTO_TEST_CASE(extension_messages) {
    BOOST_TEST(p2p::describe("SRCH :p2p-ext:1\n") == "extension probe: are you one of our nodes?");
    BOOST_TEST(p2p::describe(pr::format_ext_request("a.txt", 42)) == "request (extension): send \"a.txt\" from byte 42");
    const std::string sha(64, 'a');
    BOOST_TEST(p2p::describe(pr::format_ext_found(1000, sha)) ==
               "answer: the file follows, 1000 bytes in all, SHA-256 aaaaaaaaaaaaaaaa...");
    BOOST_TEST(p2p::describe(pr::format_ext_not_found("a.txt")) == "answer: not found");
    BOOST_TEST(p2p::describe(pr::format_ext_bad_offset(7)) == "answer: offset beyond the end, the file has 7 bytes");
}

BOOST_AUTO_TEST_CASE(overlay_messages) {
    BOOST_TEST(p2p::describe("HELLO [::1]:5001 overlay/1\n") == "hello: node [::1]:5001, capabilities overlay/1");
    BOOST_TEST(p2p::describe("PEERS\n") == "gossip: 0 known peers, 0 of them the sender's neighbours");
    BOOST_TEST(p2p::describe("PEERS 127.0.0.1:5000*@0 127.0.0.1:5001@30") ==
               "gossip: 2 known peers, 1 of them the sender's neighbours");
    const std::string qid(32, 'f');
    BOOST_TEST(p2p::describe("QUERY " + qid + " 6 2 far.txt") ==
               "query ffffffff: who has \"far.txt\"? ttl 6, hops 2");
    BOOST_TEST(p2p::describe("HIT " + qid + " 3 127.0.0.1:5009 far.txt\n") ==
               "hit for query ffffffff: \"far.txt\" is on 127.0.0.1:5009 (3 hops)");
    BOOST_TEST(p2p::describe("QUERY nonsense") == "invalid overlay message");
}

BOOST_AUTO_TEST_CASE(a_peer_cannot_write_escapes_through_the_trace) {
    BOOST_TEST(p2p::describe("SRCH a\x1b[2Jb") == "search: is \"a\\x1b[2Jb\" shared?");
}

BOOST_AUTO_TEST_CASE(trace_lines_name_direction_and_peer) {
    std::ostringstream out;
    {
        p2p::Output output(out, false, false);
        p2p::Trace trace(output, p2p::describe);
        trace.message(p2p::Trace::Dir::sent, "127.0.0.1:5003", "SRCH x\n");
        trace.note(p2p::Trace::Dir::received, "127.0.0.1:5003", "file data: 5 bytes");
        output.stop(std::chrono::seconds(5));
    }
    BOOST_TEST(out.str() == "trace -> 127.0.0.1:5003  b'SRCH x\\n'  search: is \"x\" shared?\n"
                            "trace <- 127.0.0.1:5003  file data: 5 bytes\n");
}

BOOST_AUTO_TEST_CASE(capabilities_are_a_comma_separated_list) {
    BOOST_TEST(p2p::has_capability("overlay/1", "overlay/1"));
    BOOST_TEST(p2p::has_capability("tls/1,overlay/1", "overlay/1"));
    BOOST_TEST(!p2p::has_capability("overlay/10", "overlay/1"));
    BOOST_TEST(!p2p::has_capability("", "overlay/1"));
    BOOST_TEST(!p2p::has_capability("xoverlay/1,", "overlay/1"));
}
