// The registry's cap (lab/session_registry.hpp): a full registry refuses at once, or waits for a
// place when the caller asks (it has just shut a session down); stop_all() ends that wait.
#define BOOST_TEST_MODULE session_registry
#include <boost/test/unit_test.hpp>

#include "p2p/lab/session_registry.hpp"
#include "support.hpp"

#include <atomic>
#include <chrono>
#include <thread>

using namespace p2p;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

/// A session body that runs until `release` is set (bounded: 20 s at most).
std::function<void()> held(std::atomic<bool>& release) {
    return [&release] {
        const auto end = Clock::now() + 20s;
        while (!release.load() && Clock::now() < end) std::this_thread::sleep_for(5ms);
    };
}

std::shared_ptr<Socket> no_socket() { return std::make_shared<Socket>(); }

}  // namespace

BOOST_AUTO_TEST_CASE(a_full_registry_refuses_at_once_without_a_wait) {
    SessionRegistry sessions(1);
    std::atomic<bool> release{false};
    BOOST_TEST((sessions.start(no_socket(), held(release)) == SessionRegistry::Admit::started));
    const auto t0 = Clock::now();
    BOOST_TEST((sessions.start(no_socket(), [] {}) == SessionRegistry::Admit::full));
    BOOST_TEST((Clock::now() - t0 < 1s));
    release = true;
}

BOOST_AUTO_TEST_CASE(a_wait_for_a_place_admits_once_a_session_ends) {
    SessionRegistry sessions(1);
    std::atomic<bool> release{false};
    BOOST_TEST((sessions.start(no_socket(), held(release)) == SessionRegistry::Admit::started));
    std::thread ender([&release] {
        std::this_thread::sleep_for(100ms);
        release = true;
    });
    BOOST_TEST((sessions.start(no_socket(), [] {}, 20s) == SessionRegistry::Admit::started));
    ender.join();
}

BOOST_AUTO_TEST_CASE(a_wait_for_a_place_gives_up_at_its_deadline) {
    SessionRegistry sessions(1);
    std::atomic<bool> release{false};
    BOOST_TEST((sessions.start(no_socket(), held(release)) == SessionRegistry::Admit::started));
    const auto t0 = Clock::now();
    BOOST_TEST((sessions.start(no_socket(), [] {}, 200ms) == SessionRegistry::Admit::full));
    BOOST_TEST((Clock::now() - t0 >= 200ms));
    release = true;
}

BOOST_AUTO_TEST_CASE(stop_all_ends_a_wait_for_a_place) {
    SessionRegistry sessions(1);
    std::atomic<bool> release{false};
    BOOST_TEST((sessions.start(no_socket(), held(release)) == SessionRegistry::Admit::started));
    std::thread stopper([&sessions] {
        std::this_thread::sleep_for(100ms);
        sessions.stop_all();
    });
    const auto t0 = Clock::now();
    BOOST_TEST((sessions.start(no_socket(), [] {}, 20s) == SessionRegistry::Admit::stopping));
    BOOST_TEST((Clock::now() - t0 < 15s));
    stopper.join();
    release = true;
}
