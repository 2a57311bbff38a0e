// The bandwidth limit: the rate's text form, and the token bucket's pace, cancel and wake-up.
// No sockets.
#define BOOST_TEST_MODULE rate_limit
#include <boost/test/unit_test.hpp>

#include "p2p/net/rate_limit.hpp"
#include "support.hpp"

#include <thread>
#include <vector>

using namespace p2p;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::uint64_t KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;

/// Takes the whole burst, so the next acquire of a grant has to wait.
void drain(RateLimit& limit) { BOOST_REQUIRE(limit.acquire(RateLimit::max_grant)); }

}  // namespace

BOOST_AUTO_TEST_SUITE(unit)

BOOST_AUTO_TEST_CASE(rates_parse_in_binary_units) {
    const std::vector<std::pair<const char*, std::uint64_t>> cases = {
        {"20M", 20 * MiB}, {"512K", 512 * KiB}, {"1.5M", 3 * MiB / 2}, {"100", 100}, {"0", 0},
        {"unlimited", 0}, {"off", 0}, {"OFF", 0}, {"2g", 2 * GiB}, {"20MiB/s", 20 * MiB},
        {"20MB", 20 * MiB}, {"64KiB", 64 * KiB}, {"100B/s", 100}, {"100/s", 100}, {"0.5K", 512},
        {"1.5", 1}, {"007", 7}, {"0.0", 0},
        {"18446744073709551615", 18446744073709551615ull},  // 2^64 - 1
        {"17179869183G", 17179869183ull * GiB},
    };
    for (const auto& [text, want] : cases) {
        BOOST_TEST_CONTEXT(text) {
            std::string why;
            const auto rate = parse_rate(text, &why);
            BOOST_TEST(rate.has_value(), why);
            if (rate) BOOST_TEST(*rate == want);
        }
    }
}

BOOST_AUTO_TEST_CASE(bad_rates_are_refused_with_a_reason) {
    const std::vector<std::pair<const char*, const char*>> cases = {
        {"", "e.g. 20M"}, {"abc", "e.g. 20M"}, {"20X", "e.g. 20M"}, {"1e6", "e.g. 20M"},
        {"20 M", "e.g. 20M"}, {"M", "e.g. 20M"}, {"iB", "e.g. 20M"}, {"20iB", "e.g. 20M"},
        {".", "e.g. 20M"}, {"1.2.3", "e.g. 20M"}, {"/s", "e.g. 20M"}, {"+5", "e.g. 20M"},
        {"20MM", "e.g. 20M"}, {"unlimitedK", "e.g. 20M"},
        {"-1", "negative"}, {"-5M", "negative"},
        {"18446744073709551616", "too large"}, {"17179869184G", "too large"},
        {"99999999999999999999999999", "too large"},
        {"0.1", "below 1 byte"},
    };
    for (const auto& [text, reason] : cases) {
        BOOST_TEST_CONTEXT("'" << text << "'") {
            std::string why;
            BOOST_TEST(!parse_rate(text, &why).has_value());
            BOOST_TEST(why.find(reason) != std::string::npos, why);
        }
    }
    BOOST_TEST(!parse_rate("x").has_value());  // no reason wanted
}

BOOST_AUTO_TEST_CASE(rates_format_as_the_progress_bar_does) {
    BOOST_TEST(format_rate(0) == "unlimited");
    BOOST_TEST(format_rate(100) == "100 B/s");
    BOOST_TEST(format_rate(512 * KiB) == "512.0 KiB/s");
    BOOST_TEST(format_rate(20 * MiB) == "20.0 MiB/s");
    BOOST_TEST(format_rate(3 * MiB / 2) == "1.5 MiB/s");
    BOOST_TEST(format_rate(2 * GiB) == "2.0 GiB/s");
}

BOOST_AUTO_TEST_CASE(unlimited_never_waits) {
    RateLimit limit;
    BOOST_TEST(limit.rate() == 0u);
    const auto start = Clock::now();
    int granted = 0;
    for (int i = 0; i < 100000; ++i) granted += limit.acquire(RateLimit::max_grant);
    BOOST_TEST(granted == 100000);
    BOOST_TEST(test::seconds_since(start) < 5.0);  // 6 GiB "passed": no pacing at all
    limit.set_rate(MiB);
    limit.set_rate(0);  // lifted again: no waiting either
    granted = 0;
    for (int i = 0; i < 1000; ++i) granted += limit.acquire(RateLimit::max_grant);
    BOOST_TEST(granted == 1000);
}

BOOST_AUTO_TEST_CASE(a_limit_passes_about_rate_times_t) {
    RateLimit limit(MiB);
    BOOST_TEST(limit.rate() == MiB);
    // Two threads share the bucket: together they get one rate, not two.
    // (Boost.Test's checks are not thread-safe: the threads only count.)
    std::atomic<std::uint64_t> passed{0}, refused{0};
    const auto start = Clock::now();
    auto pump = [&] {
        while (Clock::now() - start < 1s)
            (limit.acquire(RateLimit::max_grant) ? passed : refused) += RateLimit::max_grant;
    };
    std::thread other(pump);
    pump();
    other.join();
    BOOST_TEST(refused.load() == 0u);
    const double t = test::seconds_since(start);
    const double expected = static_cast<double>(MiB) * t;
    BOOST_TEST_MESSAGE(passed.load() << " bytes in " << t << " s");
    // At most one burst (100 ms) and a grant per thread beyond rate * t; never 2x.
    BOOST_TEST(static_cast<double>(passed.load()) <= 2 * expected);
    BOOST_TEST(static_cast<double>(passed.load()) >= 0.5 * expected);  // loose: noisy machines
}

BOOST_AUTO_TEST_CASE(more_than_a_burst_leaves_the_bucket_in_debt) {
    RateLimit limit(MiB);  // burst: 100 ms, 102.4 KiB
    BOOST_TEST(limit.acquire(MiB));  // a full bucket lets it through at once
    const auto start = Clock::now();
    BOOST_TEST(limit.acquire(1));  // but the next byte waits until the debt is paid (~0.9 s)
    BOOST_TEST(test::seconds_since(start) >= 0.5);
}

BOOST_AUTO_TEST_CASE(cancel_ends_a_wait_promptly) {
    RateLimit limit(1);  // one byte per second: a grant would take 18 hours
    drain(limit);
    std::atomic<bool> cancel{false};
    std::thread canceller([&] {
        std::this_thread::sleep_for(200ms);
        cancel = true;
    });
    const auto start = Clock::now();
    BOOST_TEST(!limit.acquire(RateLimit::max_grant, &cancel));
    BOOST_TEST(test::seconds_since(start) < 1.0);
    canceller.join();
    // Already cancelled: false at once, limited or not.
    BOOST_TEST(!limit.acquire(1, &cancel));
    RateLimit unlimited;
    BOOST_TEST(!unlimited.acquire(1, &cancel));
}

BOOST_AUTO_TEST_CASE(set_rate_wakes_a_waiter) {
    for (std::uint64_t new_rate : {std::uint64_t{0}, 100 * MiB}) {
        BOOST_TEST_CONTEXT("new rate " << new_rate) {
            RateLimit limit(1);
            drain(limit);
            std::atomic<bool> done{false}, granted{false};
            Clock::time_point woke;
            std::thread waiter([&] {
                granted = limit.acquire(RateLimit::max_grant);
                woke = Clock::now();
                done = true;
            });
            std::this_thread::sleep_for(200ms);
            BOOST_TEST(!done.load());  // still waiting for its 18 hours
            const auto changed = Clock::now();
            limit.set_rate(new_rate);
            waiter.join();
            BOOST_TEST(granted.load());
            BOOST_TEST(limit.rate() == new_rate);
            BOOST_TEST(std::chrono::duration<double>(woke - changed).count() < 1.0);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
