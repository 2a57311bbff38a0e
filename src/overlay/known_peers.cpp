#include "p2p/overlay/known_peers.hpp"

#include "p2p/util/atomic_file.hpp"

#include <boost/thread/lock_guard.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace p2p {
namespace {

std::int64_t to_unix(KnownPeers::Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

KnownPeers::Clock::time_point from_unix(std::int64_t s) {
    return KnownPeers::Clock::time_point(std::chrono::seconds(s));
}

}  // namespace

bool KnownPeers::seen(const PeerId& id, Clock::time_point when, bool overlay) {
    boost::lock_guard<boost::mutex> lock(mutex_);
    auto it = peers_.find(id);
    if (it != peers_.end()) {
        it->second.last_seen = std::max(it->second.last_seen, when);
        it->second.overlay = it->second.overlay || overlay;
        return true;
    }
    peers_.emplace(id, State{when, overlay});
    evict_locked();
    return peers_.count(id) > 0;
}

bool KnownPeers::heard_of(const PeerId& id, bool overlay, Clock::time_point when) {
    boost::lock_guard<boost::mutex> lock(mutex_);
    auto it = peers_.find(id);
    if (it != peers_.end()) {
        // A fresher first-hand time (gossip carries ages, never "now") may move it forward.
        it->second.last_seen = std::max(it->second.last_seen, when);
        return false;
    }
    // Hearsay never pushes out a peer we know: when the list is full, it is not taken; nor a
    // peer already too old to keep.
    if (peers_.size() >= cap_ || Clock::now() - when > max_age_) return false;
    peers_.emplace(id, State{when, overlay});
    return true;
}

void KnownPeers::evict_locked() {
    while (peers_.size() > cap_) {
        auto oldest = std::min_element(peers_.begin(), peers_.end(),
                                       [](const auto& a, const auto& b) {
                                           return a.second.last_seen < b.second.last_seen;
                                       });
        peers_.erase(oldest);
    }
}

void KnownPeers::forget(const PeerId& id) {
    boost::lock_guard<boost::mutex> lock(mutex_);
    peers_.erase(id);
}

std::size_t KnownPeers::expire(Clock::time_point now) {
    boost::lock_guard<boost::mutex> lock(mutex_);
    std::size_t n = 0;
    for (auto it = peers_.begin(); it != peers_.end();) {
        if (now - it->second.last_seen > max_age_) {
            it = peers_.erase(it);
            ++n;
        } else {
            ++it;
        }
    }
    return n;
}

bool KnownPeers::contains(const PeerId& id) const {
    boost::lock_guard<boost::mutex> lock(mutex_);
    return peers_.count(id) > 0;
}

std::size_t KnownPeers::size() const {
    boost::lock_guard<boost::mutex> lock(mutex_);
    return peers_.size();
}

std::vector<KnownPeers::Entry> KnownPeers::list() const {
    std::vector<Entry> out;
    {
        boost::lock_guard<boost::mutex> lock(mutex_);
        for (const auto& [id, st] : peers_) out.push_back({id, st.last_seen, st.overlay});
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const Entry& a, const Entry& b) { return a.last_seen > b.last_seen; });
    return out;
}

bool KnownPeers::load(const boost::filesystem::path& file, std::string& error, std::size_t* skipped) {
    if (skipped) *skipped = 0;
    std::ifstream in(file.string());
    if (!in) {
        if (errno == ENOENT) {
            boost::lock_guard<boost::mutex> lock(mutex_);
            peers_.clear();
            return true;
        }
        error = "cannot read " + file.string() + ": " + std::strerror(errno);
        return false;
    }
    std::map<PeerId, State> loaded;
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string id_text, flag, extra;
        std::int64_t when = 0;
        std::string why;
        if (!(words >> id_text >> when) || ((words >> flag) && flag != "overlay") || (words >> extra)) {
            if (skipped && !line.empty()) ++*skipped;
            continue;
        }
        // The host is always written out: no "own host" applies to a saved id.
        auto id = id_text.find(':') == std::string::npos ? std::nullopt
                                                         : parse_peer_id(id_text, "", why);
        if (!id) {
            if (skipped) ++*skipped;
            continue;
        }
        auto& slot = loaded[*id];
        slot.last_seen = std::max(slot.last_seen, from_unix(when));
        slot.overlay = slot.overlay || flag == "overlay";
    }
    boost::lock_guard<boost::mutex> lock(mutex_);
    peers_ = std::move(loaded);
    evict_locked();
    return true;
}

bool KnownPeers::save(const boost::filesystem::path& file, std::string& error) const {
    std::string text;
    for (const auto& e : list())
        text += e.id.to_string() + ' ' + std::to_string(to_unix(e.last_seen)) + (e.overlay ? " overlay" : "") + '\n';
    return write_atomically(file, text, 0644, error);
}

}  // namespace p2p
