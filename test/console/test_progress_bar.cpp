// The progress bar's text (console/progress_bar.hpp), without a terminal: it never shows a rate
// it cannot know.
#define BOOST_TEST_MODULE progress_bar
#include <boost/test/unit_test.hpp>

#include "p2p/console/progress_bar.hpp"

using namespace p2p;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(unit)

BOOST_AUTO_TEST_CASE(a_transfer_shorter_than_a_refresh_shows_no_rate_and_no_eta) {
    // A 14 KiB file done in 3 ms: no "MiB/s" out of three milliseconds.
    const std::string quick = format_progress(14336, 14336, 14336, 3ms, "  1 source");
    BOOST_TEST(quick == "[##############################] 100%  1 source", quick);
    BOOST_TEST(format_progress(0, 100, 0, 0ms, "") == "[..............................]   0%");
}

BOOST_AUTO_TEST_CASE(a_longer_one_shows_its_rate_and_eta) {
    const std::uint64_t mib = 1 << 20;
    const std::string half = format_progress(10 * mib, 20 * mib, 10 * mib, 2s, "  3 sources");
    BOOST_TEST(half == "[###############...............]  50%  5.0 MiB/s  3 sources  ETA 0:02", half);
    // A resumed download's kept bytes are no speed: only what arrived counts.
    const std::string resumed = format_progress(15 * mib, 20 * mib, 5 * mib, 5s, "");
    BOOST_TEST(resumed == "[######################........]  75%  1.0 MiB/s  ETA 0:05", resumed);
}

BOOST_AUTO_TEST_SUITE_END()
