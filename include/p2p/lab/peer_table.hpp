// Outgoing connections opened with `connect`, in the order they were made (lp prints that order).
#pragma once

#include "p2p/net/peer_id.hpp"
#include "p2p/net/socket.hpp"

#include <boost/thread/mutex.hpp>

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
    bool contains(const PeerId& peer) const;
    /// Adds a connection; false (socket dropped) if one to `peer` already exists or the table
    /// was closed (a connect racing stop() must not leave a live connection behind).
    bool add(const PeerId& peer, Socket socket, bool extended);
    /// Closes and forgets the connection; false if there was none.
    bool remove(const PeerId& peer);
    /// The connection to `peer` (socket null if none). The console thread is its only user.
    PeerConnection find(const PeerId& peer) const;
    std::vector<PeerId> peers() const;
    /// Closes every connection (shutdown).
    void close_all();

private:
    /// Guards peers_: the console changes it; stop() (possibly another thread) closes it.
    /// Held only for map updates, never across a connect or any socket I/O.
    mutable boost::mutex mutex_;
    std::vector<std::pair<PeerId, PeerConnection>> peers_;
    bool closed_ = false;  ///< set by close_all()
};

}  // namespace p2p
