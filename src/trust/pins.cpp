#include "p2p/trust/pins.hpp"

#include "p2p/util/atomic_file.hpp"

#include <boost/thread/lock_guard.hpp>

#include <sstream>

namespace p2p {

bool Pins::load(std::string& error) {
    std::vector<std::string> lines;
    if (file_.empty() || !read_lines(file_, lines, error)) return file_.empty();
    boost::lock_guard<boost::mutex> lock(mutex_);
    for (const auto& line : lines) {
        std::istringstream words(line);
        std::string id_text, node_id, extra;
        std::string ignored;
        if (!(words >> id_text >> node_id) || (words >> extra)) continue;
        if (auto id = parse_peer_id(id_text, "", ignored)) pins_[*id] = node_id;
    }
    return true;
}

Pins::Verdict Pins::check(const PeerId& peer, const std::string& node_id, std::string* pinned, bool may_pin) {
    boost::lock_guard<boost::mutex> lock(mutex_);
    auto it = pins_.find(peer);
    if (it != pins_.end() && pinned) *pinned = it->second;
    if (node_id.empty()) return it == pins_.end() ? Verdict::plain : Verdict::downgrade;
    if (it == pins_.end()) {
        if (may_pin) {
            pins_[peer] = node_id;
            save_locked();
        }
        return Verdict::pinned_now;
    }
    return it->second == node_id ? Verdict::same : Verdict::changed;
}

bool Pins::unpin(const PeerId& peer) {
    boost::lock_guard<boost::mutex> lock(mutex_);
    if (pins_.erase(peer) == 0) return false;
    save_locked();
    return true;
}

std::optional<std::string> Pins::pinned(const PeerId& peer) const {
    boost::lock_guard<boost::mutex> lock(mutex_);
    auto it = pins_.find(peer);
    if (it == pins_.end()) return std::nullopt;
    return it->second;
}

std::string Pins::save_error() const {
    boost::lock_guard<boost::mutex> lock(mutex_);
    return save_error_;
}

std::optional<std::string> pin_refusal(Pins& pins, const PeerId& peer, const std::string& node_id,
                                       bool may_pin) {
    std::string before;
    switch (pins.check(peer, node_id, &before, may_pin)) {
    case Pins::Verdict::changed:
        return "it proved node id " + node_id + ", but " + before + " is pinned for " + peer.to_string() +
               " (a new key, or another node at that address: 'unpin " + peer.to_string() + "' accepts it)";
    case Pins::Verdict::downgrade:
        return "it offered plain bytes, but spoke TLS as node id " + before + " before (a downgrade: 'unpin " +
               peer.to_string() + "' if that node is gone)";
    default: return std::nullopt;
    }
}

void Pins::save_locked() {
    if (file_.empty()) return;
    std::string text;
    for (const auto& [id, node_id] : pins_) text += id.to_string() + ' ' + node_id + '\n';
    std::string error;
    save_error_ = write_atomically(file_, text, 0600, error) ? "" : error;
}

}  // namespace p2p
