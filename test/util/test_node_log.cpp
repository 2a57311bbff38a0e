// The node's log file (util/node_log.hpp): lines with a time, bounded, rotated once.
#define BOOST_TEST_MODULE node_log
#include <boost/test/unit_test.hpp>

#include "p2p/util/node_log.hpp"
#include "support.hpp"

#include <boost/filesystem/operations.hpp>

using namespace p2p;
using namespace p2p::test;

BOOST_AUTO_TEST_SUITE(unit)

BOOST_AUTO_TEST_CASE(lines_are_kept_with_their_time) {
    TempDir dir;
    {
        NodeLog log(dir / "node.log");
        log.append("Manifest of a.txt ready");
        log.append("Peer 5003 has node id X");
        BOOST_TEST(log.error().empty());
    }
    const std::string text = read_file(dir / "node.log");
    BOOST_TEST(count(text, "\n") == 2u);
    BOOST_TEST(text.find("Manifest of a.txt ready\n") == 20u, text);  // "YYYY-MM-DD HH:MM:SS " first
    BOOST_TEST(text.find(" Peer 5003 has node id X\n") != std::string::npos, text);
    NodeLog again(dir / "node.log");  // a restart appends
    again.append("third");
    BOOST_TEST(count(read_file(dir / "node.log"), "\n") == 3u);
}

BOOST_AUTO_TEST_CASE(the_file_stays_bounded_and_the_previous_one_is_kept) {
    TempDir dir;
    NodeLog log(dir / "node.log", 1000);
    for (int i = 0; i < 200; ++i) log.append("line " + std::to_string(i) + " with some words in it");
    BOOST_TEST(boost::filesystem::file_size(dir / "node.log") <= 1000u);
    BOOST_TEST(boost::filesystem::file_size(dir / "node.log.1") <= 1000u);
    BOOST_TEST(!boost::filesystem::exists(dir / "node.log.2"));
    const std::string last = read_file(dir / "node.log");
    BOOST_TEST(last.find(" line 199 with some words in it\n") != std::string::npos);
    BOOST_TEST(last.find(" line 0 with") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_log_that_cannot_be_opened_is_no_failure) {
    TempDir dir;
    NodeLog log(dir / "missing" / "node.log");
    BOOST_TEST(!log.error().empty());
    log.append("nothing happens");
    BOOST_TEST(!boost::filesystem::exists(dir / "missing"));
}

BOOST_AUTO_TEST_SUITE_END()
