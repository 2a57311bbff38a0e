#include "p2p/util/stop_event.hpp"

#include <boost/thread/lock_guard.hpp>

namespace p2p {

void StopEvent::set() {
    {
        boost::lock_guard<boost::mutex> lock(mutex_);
        flag_.store(true);
    }
    changed_.notify_all();
}

bool StopEvent::wait_for(std::chrono::milliseconds timeout) {
    boost::unique_lock<boost::mutex> lock(mutex_);
    return changed_.wait_for(lock, boost::chrono::milliseconds(timeout.count()),
                             [this] { return flag_.load(); });
}

}  // namespace p2p
