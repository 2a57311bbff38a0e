// With a network secret, connections that have not proved it yet hold at most a few handler
// threads: when all slots are taken, a new connection evicts the oldest unproven one. Silent or
// slow connections then cannot keep an honest node out even by reopening faster than the
// handshake deadline (session.hpp): its own handshake takes milliseconds, theirs never ends.
#pragma once

#include "p2p/net/socket.hpp"

#include <boost/thread/mutex.hpp>

#include <cstddef>
#include <deque>
#include <memory>

namespace p2p {

class HandshakeSlots {
public:
    explicit HandshakeSlots(std::size_t slots) : slots_(slots) {}

    /// A new unproven connection; when all slots are taken the oldest is shut down (its
    /// session then ends at once) and forgotten.
    void enter(const std::shared_ptr<Socket>& socket);
    /// Shuts down the oldest unproven connection, if any: to make room for a new one when every
    /// handler thread is taken. False when none waits.
    bool evict_oldest();
    /// The connection proved the secret, or ended: its slot is free.
    void leave(const Socket* socket);
    std::size_t taken() const;

private:
    const std::size_t slots_;
    /// Guards waiting_: the listener enters, session threads leave.
    mutable boost::mutex mutex_;
    std::deque<std::weak_ptr<Socket>> waiting_;  ///< oldest first
};

}  // namespace p2p
