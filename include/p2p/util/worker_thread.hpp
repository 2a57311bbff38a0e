// Every thread but the main one is started here, with SIGINT and SIGTERM blocked: the
// process's signals then reach only the main thread (its handler sets the exit event and wakes
// the console), and no worker sees an EINTR it does not expect.
#pragma once

#include <boost/thread/thread.hpp>

#include <signal.h>

#include <utility>

namespace p2p {

/// Blocks SIGINT and SIGTERM in the calling thread for its lifetime, then restores the mask.
/// A thread started meanwhile inherits the blocked mask before it runs a single instruction.
class SignalBlock {
public:
    SignalBlock();
    ~SignalBlock();
    SignalBlock(const SignalBlock&) = delete;
    SignalBlock& operator=(const SignalBlock&) = delete;

private:
    sigset_t saved_;  ///< the caller's mask, restored on destruction
};

/// Names the calling thread "p2p:<role>" (seen in top -H, gdb and /proc/PID/task/*/comm).
void name_this_thread(const char* role);

/// Starts `body` on a new thread named after `role` that never takes SIGINT or SIGTERM.
/// Throws boost::thread_resource_error when no thread can be started (EAGAIN: a thread limit).
template <class F>
boost::thread start_worker(const char* role, F&& body) {
    SignalBlock block;
    return boost::thread([role, body = std::forward<F>(body)]() mutable {
        name_this_thread(role);
        body();
    });
}

}  // namespace p2p
