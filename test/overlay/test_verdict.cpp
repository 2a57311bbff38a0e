// The handshake's verdict (overlay/verdict.hpp) byte for byte, without sockets.
#define BOOST_TEST_MODULE verdict
#include <boost/test/unit_test.hpp>

#include "p2p/overlay/verdict.hpp"

#include <string>

namespace v = p2p::verdict;
using Code = v::Refusal::Code;

BOOST_AUTO_TEST_SUITE(unit)

BOOST_AUTO_TEST_CASE(each_verdict_is_one_line_and_parses_back) {
    BOOST_TEST(v::format_accepted() == "ACCEPTED\n");
    BOOST_TEST(v::format_refused({Code::pinned, "127.0.0.1:5001", 0}) == "REFUSED pinned 127.0.0.1:5001\n");
    BOOST_TEST(v::format_refused({Code::pinned, "[::1]:5001", 0}) == "REFUSED pinned [::1]:5001\n");
    BOOST_TEST(v::format_refused({Code::banned, {}, 597}) == "REFUSED banned 597\n");
    const auto ok = v::parse("ACCEPTED\n");
    BOOST_REQUIRE(ok);
    BOOST_TEST(ok->accepted);
    for (const std::string line : {"REFUSED pinned 127.0.0.1:5001\n", "REFUSED pinned [::1]:5001", "REFUSED banned 597\n"}) {
        const auto r = v::parse(line);
        BOOST_REQUIRE_MESSAGE(r, line);
        BOOST_TEST(!r->accepted);
        BOOST_REQUIRE(r->refusal);
        BOOST_TEST(v::format_refused(*r->refusal) == (line.back() == '\n' ? line : line + "\n"));
    }
}

BOOST_AUTO_TEST_CASE(anything_else_is_no_verdict) {
    for (const std::string line : {"", "\n", "ACCEPTED ", "accepted\n", "REFUSED\n", "REFUSED pinned\n",
                                   "REFUSED pinned 5001\n", "REFUSED pinned 127.0.0.1:5001 x\n",
                                   "REFUSED pinned host.example:5001\n", "REFUSED banned 0\n", "REFUSED banned -1\n",
                                   "REFUSED banned 99999999999999999999\n", "REFUSED banned 10s\n",
                                   "REFUSED busy 1\n", "HELLO 127.0.0.1:5000 overlay/1\n"})
        BOOST_TEST(!v::parse(line), "line: " << line);
}

BOOST_AUTO_TEST_CASE(the_refused_side_reads_what_to_do) {
    BOOST_TEST(v::explain({Code::pinned, "127.0.0.1:5001", 0}) ==
               "it has another node id pinned for 127.0.0.1:5001 (it must 'unpin 127.0.0.1:5001')");
    BOOST_TEST(v::explain({Code::banned, {}, 597}) == "it bans this node for another 597 s");
    BOOST_TEST(*v::describe("ACCEPTED\n") == "verdict: this node is accepted");
    BOOST_TEST(*v::describe("REFUSED banned 5\n") == "verdict: refused, it bans this node for another 5 s");
    BOOST_TEST(!v::describe("SRCH a"));
}

BOOST_AUTO_TEST_SUITE_END()
