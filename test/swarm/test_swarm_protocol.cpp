// The swarm's messages byte for byte, without sockets: XMAN and XGET, their answers, and what
// is refused.
#define BOOST_TEST_MODULE swarm_protocol
#include <boost/test/unit_test.hpp>

#include "p2p/swarm/swarm_protocol.hpp"

namespace sw = p2p::swarm;
using K = sw::Answer::Kind;

const std::string root(64, 'c');

BOOST_AUTO_TEST_CASE(requests_are_formatted_and_parsed_back) {
    BOOST_TEST(sw::format_manifest_request("a.txt") == "XMAN a.txt\n");
    BOOST_TEST(sw::format_chunk_request("a.txt", root, 12) == "XGET a.txt " + root + " 12\n");
    auto m = sw::parse_request("XMAN a.txt\n");
    BOOST_REQUIRE(m);
    BOOST_TEST((m->kind == sw::Request::Kind::manifest));
    BOOST_TEST(m->filename == "a.txt");
    auto c = sw::parse_request("XGET a.txt " + root + " 12");
    BOOST_REQUIRE(c);
    BOOST_TEST((c->kind == sw::Request::Kind::chunk));
    BOOST_TEST(c->root == root);
    BOOST_TEST(c->index == 12u);
}

BOOST_AUTO_TEST_CASE(only_our_verbs_are_swarm_messages) {
    BOOST_TEST(sw::is_swarm_message("XMAN a"));
    BOOST_TEST(sw::is_swarm_message("XGET a b c"));
    BOOST_TEST(sw::is_swarm_message("XMAN"));
    BOOST_TEST(!sw::is_swarm_message("XMANx a"));
    BOOST_TEST(!sw::is_swarm_message("REQ a"));
    BOOST_TEST(!sw::is_swarm_message("XREQ a 0"));
}

BOOST_AUTO_TEST_CASE(malformed_requests_are_refused) {
    BOOST_TEST(!sw::parse_request("XMAN"));
    BOOST_TEST(!sw::parse_request("XMAN a b"));
    BOOST_TEST(!sw::parse_request("XMAN ../etc/passwd"));
    BOOST_TEST(!sw::parse_request("XMAN a.part"));
    BOOST_TEST(!sw::parse_request("XGET a " + root));
    BOOST_TEST(!sw::parse_request("XGET a " + std::string(64, 'C') + " 1"));  // upper case
    BOOST_TEST(!sw::parse_request("XGET a " + root + " -1"));
    BOOST_TEST(!sw::parse_request("XGET a " + root + " 99999999999999999999999"));
    BOOST_TEST(!sw::parse_request("XGET a " + root + " 1 2"));
}

BOOST_AUTO_TEST_CASE(answers_are_exact) {
    BOOST_TEST(sw::format_not_ready("a") == "570 a not ready.\n");
    BOOST_TEST(sw::format_not_found("a") == "560 a not found.\n");
    BOOST_TEST(sw::format_chunk_header(3, 1048576) == "280 3 1048576\n");
    BOOST_TEST(sw::format_changed("a") == "409 a changed.\n");
    BOOST_TEST(sw::format_bad_index(4) == "416 4\n");
}

BOOST_AUTO_TEST_CASE(answer_lines_are_classified) {
    BOOST_TEST((sw::parse_answer("280 3 10").kind == K::incomplete));
    auto c = sw::parse_answer("280 3 10\n");
    BOOST_TEST((c.kind == K::chunk));
    BOOST_TEST(c.index == 3u);
    BOOST_TEST(c.length == 10u);
    auto m = sw::parse_answer("270 5 1024 x y\n");
    BOOST_TEST((m.kind == K::manifest));
    BOOST_TEST(m.manifest_line == "5 1024 x y");
    BOOST_TEST((sw::parse_answer("570 a not ready.\n").kind == K::not_ready));
    BOOST_TEST((sw::parse_answer("560 a not found.\n").kind == K::not_found));
    BOOST_TEST((sw::parse_answer("409 a changed.\n").kind == K::changed));
    auto b = sw::parse_answer("416 7\n");
    BOOST_TEST((b.kind == K::bad_index));
    BOOST_TEST(b.index == 7u);
    BOOST_TEST((sw::parse_answer("280 3\n").kind == K::invalid));
    BOOST_TEST((sw::parse_answer("280 x 10\n").kind == K::invalid));
    BOOST_TEST((sw::parse_answer("999 what\n").kind == K::invalid));
    BOOST_TEST((sw::parse_answer(std::string(600, 'x')).kind == K::invalid));
    BOOST_TEST((sw::parse_answer("280 3 10\nextra").kind == K::invalid));  // read byte by byte: never
}
