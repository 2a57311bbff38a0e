#include "p2p/lab/peer_table.hpp"

#include <boost/thread/lock_guard.hpp>

#include <algorithm>

namespace p2p {

using Lock = boost::lock_guard<boost::mutex>;

bool PeerTable::contains(const PeerId& peer) const { return find(peer).socket != nullptr; }

bool PeerTable::add(const PeerId& peer, Socket socket, bool extended) {
    Lock lock(mutex_);
    if (closed_) return false;
    for (const auto& p : peers_)
        if (p.first == peer) return false;
    peers_.emplace_back(peer, PeerConnection{std::make_shared<Socket>(std::move(socket)), extended});
    return true;
}

bool PeerTable::remove(const PeerId& peer) {
    std::shared_ptr<Socket> gone;
    {
        Lock lock(mutex_);
        auto it = std::find_if(peers_.begin(), peers_.end(),
                               [&peer](const auto& p) { return p.first == peer; });
        if (it == peers_.end()) return false;
        gone = std::move(it->second.socket);
        peers_.erase(it);
    }
    gone->shutdown();  // the descriptor itself closes with its last owner
    return true;
}

PeerConnection PeerTable::find(const PeerId& peer) const {
    Lock lock(mutex_);
    for (const auto& p : peers_)
        if (p.first == peer) return p.second;
    return {};
}

std::vector<PeerId> PeerTable::peers() const {
    Lock lock(mutex_);
    std::vector<PeerId> out;
    for (const auto& p : peers_) out.push_back(p.first);
    return out;
}

void PeerTable::close_all() {
    std::vector<std::pair<PeerId, PeerConnection>> all;
    {
        Lock lock(mutex_);
        closed_ = true;
        all.swap(peers_);
    }
    for (auto& p : all) p.second.socket->shutdown();
}

}  // namespace p2p
