// Outgoing connections opened with `connect`, in the order they were made (lp prints that order).
#pragma once

#include "p2p/socket.hpp"

#include <boost/thread/mutex.hpp>

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace p2p {

/// One outgoing connection.
struct PeerConnection {
    std::shared_ptr<Socket> socket;  ///< null: not connected
    bool extended = false;           ///< the peer answered the extension probe
};

class PeerTable {
public:
    bool contains(std::uint16_t peer) const;
    /// Adds a connection; false (socket dropped) if one to `peer` already exists or the table
    /// was closed (a connect racing stop() must not leave a live connection behind).
    bool add(std::uint16_t peer, Socket socket, bool extended);
    /// Closes and forgets the connection; false if there was none.
    bool remove(std::uint16_t peer);
    /// The connection to `peer` (socket null if none). The console thread is its only user.
    PeerConnection find(std::uint16_t peer) const;
    std::vector<std::uint16_t> peers() const;
    /// Closes every connection (shutdown).
    void close_all();

private:
    /// Guards peers_: the console changes it; stop() (possibly another thread) closes it.
    /// Held only for map updates, never across a connect or any socket I/O.
    mutable boost::mutex mutex_;
    std::vector<std::pair<std::uint16_t, PeerConnection>> peers_;
    bool closed_ = false;  ///< set by close_all()
};

}  // namespace p2p
