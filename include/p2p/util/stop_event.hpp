// The node's exit event, waitable: threads with timers (gossip, expiry) sleep on it until their
// next deadline or until stop, and wake at once on stop. Loops that poll (reads in 100 ms slices,
// hashing per 256 KiB) read its flag.
#pragma once

#include <boost/thread/condition_variable.hpp>
#include <boost/thread/mutex.hpp>

#include <atomic>
#include <chrono>

namespace p2p {

class StopEvent {
public:
    /// Sets the event and wakes every waiter. Not async-signal-safe: a signal handler stores
    /// into flag() instead, and the main thread calls set() when it sees the wake-up.
    void set();
    bool is_set() const { return flag_.load(); }
    /// Waits until the event is set or `timeout` has passed; true if it is set.
    bool wait_for(std::chrono::milliseconds timeout);

    /// The flag itself, for code that polls it (and for a signal handler to store into).
    std::atomic<bool>& flag() { return flag_; }
    const std::atomic<bool>& flag() const { return flag_; }

private:
    std::atomic<bool> flag_{false};
    /// With changed_: a waiter cannot miss set() between testing the flag and sleeping.
    boost::mutex mutex_;
    boost::condition_variable changed_;
};

}  // namespace p2p
