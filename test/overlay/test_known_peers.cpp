// The known-peer list: refresh, cap, ageing, and the file it survives restarts in. No sockets.
#define BOOST_TEST_MODULE known_peers
#include <boost/test/unit_test.hpp>

#include "p2p/overlay/known_peers.hpp"
#include "support.hpp"

#include <fstream>

using namespace p2p;
using namespace std::chrono_literals;
using Clock = KnownPeers::Clock;

namespace {

PeerId id(const std::string& text) {
    std::string error;
    auto p = parse_peer_id(text, "127.0.0.1", error);
    BOOST_REQUIRE_MESSAGE(p, text << ": " << error);
    return *p;
}

const Clock::time_point t0 = Clock::time_point(std::chrono::seconds(1'800'000'000));

}  // namespace

BOOST_AUTO_TEST_SUITE(unit)

BOOST_AUTO_TEST_CASE(seen_adds_and_refreshes_never_back) {
    KnownPeers k(8, 600s);
    BOOST_TEST(k.seen(id("5001"), t0));
    BOOST_TEST(k.seen(id("[::1]:5002"), t0 + 5s));
    k.seen(id("127.0.0.1:5001"), t0 + 10s);  // the same peer, spelled out
    k.seen(id("5001"), t0 + 1s);             // an older sighting does not move it back
    auto list = k.list();
    BOOST_REQUIRE(list.size() == 2u);
    BOOST_TEST(list[0].id == id("5001"));  // most recent first
    BOOST_TEST((list[0].last_seen == t0 + 10s));
    BOOST_TEST(list[1].id.to_string() == "[::1]:5002");
}

BOOST_AUTO_TEST_CASE(the_cap_keeps_the_most_recently_seen) {
    KnownPeers k(3, 600s);
    for (int i = 0; i < 3; ++i) k.seen(id(std::to_string(6000 + i)), t0 + std::chrono::seconds(i));
    BOOST_TEST(!k.seen(id("7000"), t0 - 1s));  // older than everyone kept: not taken
    BOOST_TEST(k.seen(id("7001"), t0 + 100s));   // newer: the oldest (6000) makes room
    BOOST_TEST(k.size() == 3u);
    BOOST_TEST(!k.contains(id("6000")));
    BOOST_TEST(k.contains(id("7001")));
}

BOOST_AUTO_TEST_CASE(peers_not_seen_for_max_age_are_aged_out) {
    KnownPeers k(8, 600s);
    k.seen(id("5001"), t0);
    k.seen(id("5002"), t0 + 300s);
    BOOST_TEST(k.expire(t0 + 600s) == 0u);  // exactly max_age: still kept
    BOOST_TEST(k.expire(t0 + 601s) == 1u);
    BOOST_TEST(!k.contains(id("5001")));
    BOOST_TEST(k.contains(id("5002")));
    k.forget(id("5002"));
    BOOST_TEST(k.size() == 0u);
}

BOOST_AUTO_TEST_CASE(the_list_survives_a_save_and_load) {
    test::TempDir dir;
    const auto file = dir / "peers";
    KnownPeers a(8, 600s);
    a.seen(id("10.0.0.2:5000"), t0);
    a.seen(id("[::1]:5001"), t0 + 2s);
    std::string error;
    BOOST_REQUIRE_MESSAGE(a.save(file, error), error);
    BOOST_TEST(test::read_file(file) == "[::1]:5001 1800000002\n10.0.0.2:5000 1800000000\n");
    BOOST_TEST(!boost::filesystem::exists(dir / "peers.tmp"));

    KnownPeers b(8, 600s);
    BOOST_REQUIRE_MESSAGE(b.load(file, error), error);
    auto list = b.list();
    BOOST_REQUIRE(list.size() == 2u);
    BOOST_TEST(list[0].id.to_string() == "[::1]:5001");
    BOOST_TEST((list[1].last_seen == t0));
}

BOOST_AUTO_TEST_CASE(a_damaged_file_loses_only_its_bad_lines) {
    test::TempDir dir;
    const auto file = dir / "peers";
    std::ofstream(file.string()) << "10.0.0.2:5000 1800000000\n"
                                 << "garbage\n"
                                 << "5000 1800000000\n"            // no host: refused
                                 << "224.0.0.1:5000 1800000000\n"  // multicast: never a peer
                                 << "10.0.0.3:5000 12 extra\n"
                                 << "[::1]:70000 1800000000\n"
                                 << "10.0.0.4:5000 1800000001";   // no final newline
    KnownPeers k(8, 600s);
    std::string error;
    std::size_t skipped = 0;
    BOOST_REQUIRE(k.load(file, error, &skipped));
    BOOST_TEST(k.size() == 2u);
    BOOST_TEST(skipped == 5u);
    // A missing file is an empty list, not an error: a first start.
    BOOST_TEST(k.load(dir / "none", error));
    BOOST_TEST(k.size() == 0u);
}

BOOST_AUTO_TEST_CASE(a_failed_save_keeps_the_old_file) {
    test::TempDir dir;
    const auto file = dir / "peers";
    std::ofstream(file.string()) << "10.0.0.2:5000 1800000000\n";
    boost::filesystem::create_directory(dir / "peers.tmp");  // the temporary name is taken
    KnownPeers k(8, 600s);
    k.seen(id("5001"), t0);
    std::string error;
    BOOST_TEST(!k.save(file, error));
    BOOST_TEST(error.find("peers.tmp") != std::string::npos, error);
    BOOST_TEST(test::read_file(file) == "10.0.0.2:5000 1800000000\n");
}

// Gossip carries the time a peer was last seen first-hand; hearsay never makes it fresher
// than that, never evicts a peer we know, and is not taken once too old.
BOOST_AUTO_TEST_CASE(hearsay_keeps_the_first_hand_time_and_never_evicts) {
    const auto now = Clock::now();
    KnownPeers k(2, 600s);
    BOOST_TEST(k.heard_of(id("5001"), true, now - 100s));
    BOOST_TEST(!k.heard_of(id("5001"), true, now - 300s));  // older news: no change
    BOOST_TEST((k.list()[0].last_seen == now - 100s));
    k.heard_of(id("5001"), true, now - 10s);                  // fresher first-hand time
    BOOST_TEST((k.list()[0].last_seen == now - 10s));
    BOOST_TEST(!k.heard_of(id("5002"), true, now - 601s));   // already beyond max age
    BOOST_TEST(k.seen(id("5003"), now));
    BOOST_TEST(!k.heard_of(id("5004"), true, now));          // full: hearsay waits
    BOOST_TEST(k.size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
