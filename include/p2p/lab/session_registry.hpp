// Every live session and its thread, so that every one can be stopped and joined at shutdown.
#pragma once

#include "p2p/net/socket.hpp"

#include <boost/thread/condition_variable.hpp>
#include <boost/thread/mutex.hpp>
#include <boost/thread/thread.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>

namespace p2p {

class SessionRegistry {
public:
    /// At most `max_sessions` handler threads run at once.
    explicit SessionRegistry(std::size_t max_sessions) : max_sessions_(max_sessions) {}
    ~SessionRegistry();

    enum class Admit { started, full, no_thread, stopping };

    /// Runs `body` on a new thread that owns a share of `socket`. Joins finished threads first.
    /// Refused when the cap is reached, no thread can be started (a process or cgroup thread
    /// limit) or stop_all() has begun; the caller then answers and closes the socket.
    /// At the cap, waits up to `wait_for_place` for a session to end: for a caller that has just
    /// shut one down (an evicted unproven connection), whose thread is only returning.
    Admit start(std::shared_ptr<Socket> socket, std::function<void()> body,
                std::chrono::milliseconds wait_for_place = std::chrono::milliseconds(0));

    /// Refuses new sessions and shuts down every session socket, waking its blocked thread.
    void stop_all();
    /// Joins every session thread (after stop_all, each returns promptly).
    void join_all();

    /// Sessions whose thread has not finished yet.
    std::size_t active() const;

private:
    struct Entry {
        std::shared_ptr<Socket> socket;
        boost::thread thread;
        std::shared_ptr<std::atomic<bool>> done;
    };
    void reap_locked();
    void finished(const std::shared_ptr<std::atomic<bool>>& done);

    const std::size_t max_sessions_;
    /// Guards entries_ and stopping_: a session admitted while stop_all() runs would otherwise
    /// miss its shutdown() and keep join_all() waiting. Never held across socket I/O or a join
    /// of a thread that is still running.
    mutable boost::mutex mutex_;
    std::list<Entry> entries_;
    bool stopping_ = false;
    boost::condition_variable ended_;  ///< a session thread finished (with mutex_)
};

}  // namespace p2p
