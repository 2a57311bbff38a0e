#include "p2p/trust/reputation.hpp"

#include "p2p/util/atomic_file.hpp"
#include "p2p/trust/pins.hpp"

#include <boost/thread/lock_guard.hpp>

#include <algorithm>
#include <sstream>

namespace p2p {

namespace {

constexpr std::chrono::seconds longest_ban{24 * 3600};

long long to_unix(Reputation::Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

long long Reputation::Record::score() const {
    return static_cast<long long>(transfers) - 10 * static_cast<long long>(sha_failures) -
           3 * static_cast<long long>(invalid_answers) - static_cast<long long>(stalls + refused_handshakes);
}

std::string reputation_key(const Pins& pins, const PeerId& peer) {
    auto id = pins.pinned(peer);
    return id ? *id : peer.to_string();
}

std::optional<Reputation::Clock::time_point> banned_until(const Reputation& reputation, const Pins& pins,
                                                          const PeerId& peer) {
    auto until = reputation.banned(reputation_key(pins, peer));
    auto by_address = reputation.banned(peer.to_string());
    return by_address && (!until || *by_address > *until) ? by_address : until;
}

bool Reputation::load(std::string& error) {
    std::vector<std::string> lines;
    if (file_.empty() || !read_lines(file_, lines, error)) return file_.empty();
    boost::lock_guard<boost::mutex> lock(mutex_);
    for (const auto& line : lines) {
        std::istringstream words(line);
        std::string key;
        Record r;
        long long until = 0;
        if (words >> key >> r.transfers >> r.bytes >> r.sha_failures >> r.invalid_answers >> r.stalls >>
            r.refused_handshakes >> r.bans >> until) {
            r.banned_until = Clock::time_point(std::chrono::seconds(until));
            records_[key] = r;
        }
    }
    return true;
}

void Reputation::record(const std::string& key, Event event, std::uint64_t bytes, Clock::time_point now) {
    boost::lock_guard<boost::mutex> lock(mutex_);
    Record& r = records_[key];
    switch (event) {
    case Event::transfer: ++r.transfers; r.bytes += bytes; break;
    case Event::invalid_answer: ++r.invalid_answers; break;
    case Event::stall: ++r.stalls; break;
    case Event::refused_handshake: ++r.refused_handshakes; break;
    case Event::sha_failure: {
        ++r.sha_failures;
        // Each repeat doubles the ban: a peer that keeps sending bad data stays out longer.
        const auto length = std::min<std::chrono::seconds>(ban_base_ * (1LL << std::min<std::uint64_t>(r.bans, 20)),
                                                          longest_ban);
        ++r.bans;
        r.banned_until = std::max(r.banned_until, now + length);
        break;
    }
    }
    save_locked();
}

void Reputation::ban(const std::string& key, std::chrono::seconds length, Clock::time_point now) {
    boost::lock_guard<boost::mutex> lock(mutex_);
    Record& r = records_[key];  // by hand: not counted as a repeat of bad data
    r.banned_until = now + length;
    save_locked();
}

bool Reputation::unban(const std::string& key) {
    boost::lock_guard<boost::mutex> lock(mutex_);
    auto it = records_.find(key);
    if (it == records_.end() || it->second.banned_until <= Clock::now()) return false;
    it->second.banned_until = {};
    save_locked();
    return true;
}

std::optional<Reputation::Clock::time_point> Reputation::banned(const std::string& key, Clock::time_point now) const {
    boost::lock_guard<boost::mutex> lock(mutex_);
    auto it = records_.find(key);
    if (it == records_.end() || it->second.banned_until <= now) return std::nullopt;
    return it->second.banned_until;
}

std::optional<Reputation::Record> Reputation::find(const std::string& key) const {
    boost::lock_guard<boost::mutex> lock(mutex_);
    auto it = records_.find(key);
    if (it == records_.end()) return std::nullopt;
    return it->second;
}

std::string Reputation::save_error() const {
    boost::lock_guard<boost::mutex> lock(mutex_);
    return save_error_;
}

void Reputation::save_locked() {
    if (file_.empty()) return;
    std::string text;
    for (const auto& [key, r] : records_)
        text += key + ' ' + std::to_string(r.transfers) + ' ' + std::to_string(r.bytes) + ' ' +
                std::to_string(r.sha_failures) + ' ' + std::to_string(r.invalid_answers) + ' ' +
                std::to_string(r.stalls) + ' ' + std::to_string(r.refused_handshakes) + ' ' +
                std::to_string(r.bans) + ' ' + std::to_string(to_unix(r.banned_until)) + '\n';
    std::string error;
    save_error_ = write_atomically(file_, text, 0600, error) ? "" : error;
}

}  // namespace p2p
