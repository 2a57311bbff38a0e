// The waitable exit event: a timer sleeping on it wakes at once on stop. No sockets.
#define BOOST_TEST_MODULE stop_event
#include <boost/test/unit_test.hpp>

#include "p2p/util/stop_event.hpp"
#include "support.hpp"

#include <thread>

using namespace p2p;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(unit)

BOOST_AUTO_TEST_CASE(a_stop_event_wakes_a_timer_at_once) {
    StopEvent stop;
    BOOST_TEST(!stop.wait_for(10ms));  // not set: the wait times out
    std::thread setter([&] {
        std::this_thread::sleep_for(100ms);
        stop.set();
    });
    const auto start = std::chrono::steady_clock::now();
    BOOST_TEST(stop.wait_for(std::chrono::minutes(10)));
    BOOST_TEST(test::seconds_since(start) < 30.0);  // woken by set(), not by the timeout
    setter.join();
    BOOST_TEST(stop.is_set());
    BOOST_TEST(stop.wait_for(0ms));
}

BOOST_AUTO_TEST_SUITE_END()
