#include "p2p/lab/session_registry.hpp"

#include "p2p/util/worker_thread.hpp"

#include <boost/thread/lock_guard.hpp>

namespace p2p {

SessionRegistry::~SessionRegistry() {
    stop_all();
    join_all();
}

void SessionRegistry::reap_locked() {
    // A finished thread is only returning; joining it here does not block for long.
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (it->done->load()) {
            it->thread.join();
            it = entries_.erase(it);
        } else {
            ++it;
        }
    }
}

void SessionRegistry::finished(const std::shared_ptr<std::atomic<bool>>& done) {
    {
        boost::lock_guard<boost::mutex> lock(mutex_);
        done->store(true);
    }
    ended_.notify_all();
}

SessionRegistry::Admit SessionRegistry::start(std::shared_ptr<Socket> socket,
                                              std::function<void()> body,
                                              std::chrono::milliseconds wait_for_place) {
    boost::unique_lock<boost::mutex> lock(mutex_);
    const auto deadline = boost::chrono::steady_clock::now() +
                          boost::chrono::milliseconds(wait_for_place.count());
    for (;;) {
        if (stopping_) return Admit::stopping;
        reap_locked();
        if (entries_.size() < max_sessions_) break;
        if (boost::chrono::steady_clock::now() >= deadline) return Admit::full;
        ended_.wait_until(lock, deadline);
    }
    auto done = std::make_shared<std::atomic<bool>>(false);
    // The entry exists before its thread, so nothing can throw between starting the thread and
    // owning it (a joinable boost::thread destroyed by unwinding terminates the process).
    entries_.push_back({std::move(socket), boost::thread(), done});
    try {
        // `this` outlives the thread: the destructor joins every one.
        entries_.back().thread = start_worker("session", [this, body = std::move(body), done] {
            body();  // Session::run() catches everything
            finished(done);
        });
    } catch (const std::exception&) {  // thread_resource_error (a thread limit), bad_alloc
        entries_.pop_back();
        return Admit::no_thread;
    }
    return Admit::started;
}

void SessionRegistry::stop_all() {
    boost::lock_guard<boost::mutex> lock(mutex_);
    stopping_ = true;
    for (auto& e : entries_) e.socket->shutdown();
    ended_.notify_all();  // a start() waiting for a place returns 'stopping'
}

void SessionRegistry::join_all() {
    std::list<Entry> entries;
    {
        boost::lock_guard<boost::mutex> lock(mutex_);
        entries.swap(entries_);
    }
    for (auto& e : entries)
        if (e.thread.joinable()) e.thread.join();
}

std::size_t SessionRegistry::active() const {
    boost::lock_guard<boost::mutex> lock(mutex_);
    std::size_t n = 0;
    for (const auto& e : entries_) n += e.done->load() ? 0 : 1;
    return n;
}

}  // namespace p2p
