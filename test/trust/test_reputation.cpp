// Reputation without sockets: the score, bans that double with each repeat up to a day, bans
// by hand, and the file that keeps them across restarts.
#define BOOST_TEST_MODULE reputation
#include <boost/test/unit_test.hpp>

#include "p2p/trust/reputation.hpp"
#include "support.hpp"

#include <fstream>

using namespace p2p::test;
using R = p2p::Reputation;
using std::chrono::seconds;

BOOST_AUTO_TEST_CASE(the_score_weighs_bad_data_most) {
    R r({}, seconds(600));
    const auto t = R::Clock::now();
    r.record("n", R::Event::transfer, 100, t);
    r.record("n", R::Event::transfer, 50, t);
    r.record("n", R::Event::stall, 0, t);
    r.record("n", R::Event::invalid_answer, 0, t);
    auto rec = r.find("n");
    BOOST_REQUIRE(rec);
    BOOST_TEST(rec->bytes == 150u);
    BOOST_TEST(rec->score() == 2 - 1 - 3);
    BOOST_TEST(!r.banned("n", t));
    r.record("n", R::Event::sha_failure, 0, t);
    BOOST_TEST(r.find("n")->score() == 2 - 1 - 3 - 10);
    BOOST_TEST(!r.find("other"));
}

BOOST_AUTO_TEST_CASE(bans_double_with_each_repeat_up_to_a_day) {
    R r({}, seconds(600));
    auto t = R::Clock::now();
    for (long long want : {600LL, 1200LL, 2400LL, 4800LL}) {
        r.record("bad", R::Event::sha_failure, 0, t);
        auto until = r.banned("bad", t);
        BOOST_REQUIRE(until);
        BOOST_TEST(std::chrono::duration_cast<seconds>(*until - t).count() == want);
        BOOST_TEST(!r.banned("bad", *until));  // over when it says
        t = *until;
    }
    for (int i = 0; i < 30; ++i) r.record("bad", R::Event::sha_failure, 0, t);
    BOOST_TEST(std::chrono::duration_cast<seconds>(*r.banned("bad", t) - t).count() == 24 * 3600);
}

BOOST_AUTO_TEST_CASE(by_hand_and_lifted) {
    R r({}, seconds(600));
    r.ban("p", seconds(30));
    BOOST_TEST(r.banned("p").has_value());
    BOOST_TEST(r.unban("p"));
    BOOST_TEST(!r.banned("p"));
    BOOST_TEST(!r.unban("p"));
    BOOST_TEST(!r.unban("never-seen"));
}

BOOST_AUTO_TEST_CASE(kept_across_a_restart_and_bad_lines_skipped) {
    TempDir dir;
    {
        R r(dir / "reputation", seconds(600));
        r.record("ABCDEFG-X", R::Event::transfer, 42);
        r.record("127.0.0.1:5000", R::Event::sha_failure);
        BOOST_TEST(r.save_error() == "");
    }
    {
        std::ofstream((dir / "reputation").string(), std::ios::app) << "garbage line\n";
    }
    R again(dir / "reputation", seconds(600));
    std::string error;
    BOOST_REQUIRE(again.load(error));
    BOOST_TEST(again.find("ABCDEFG-X")->bytes == 42u);
    BOOST_TEST(again.banned("127.0.0.1:5000").has_value());
    BOOST_TEST(!again.find("garbage"));
}
