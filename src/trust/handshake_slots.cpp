#include "p2p/trust/handshake_slots.hpp"

#include <boost/thread/lock_guard.hpp>

#include <algorithm>

namespace p2p {

void HandshakeSlots::enter(const std::shared_ptr<Socket>& socket) {
    boost::lock_guard<boost::mutex> lock(mutex_);
    while (waiting_.size() >= slots_ && !waiting_.empty()) {
        // shutdown() only wakes the session; the descriptor stays valid until its owner closes it.
        if (auto oldest = waiting_.front().lock()) oldest->shutdown();
        waiting_.pop_front();
    }
    waiting_.push_back(socket);
}

bool HandshakeSlots::evict_oldest() {
    boost::lock_guard<boost::mutex> lock(mutex_);
    while (!waiting_.empty()) {
        auto oldest = waiting_.front().lock();
        waiting_.pop_front();
        if (oldest) {
            oldest->shutdown();
            return true;
        }
    }
    return false;
}

void HandshakeSlots::leave(const Socket* socket) {
    boost::lock_guard<boost::mutex> lock(mutex_);
    waiting_.erase(std::remove_if(waiting_.begin(), waiting_.end(),
                                  [socket](const std::weak_ptr<Socket>& w) {
                                      auto s = w.lock();
                                      return !s || s.get() == socket;
                                  }),
                   waiting_.end());
}

std::size_t HandshakeSlots::taken() const {
    boost::lock_guard<boost::mutex> lock(mutex_);
    return waiting_.size();
}

}  // namespace p2p
