// What each peer has done for us, and bans, as libtorrent bans peers whose pieces fail: kept
// per node id (for a lab peer, or a node not yet proven over TLS, per host:port) in
// <state>/reputation and reloaded at start.
//
// Score: +1 per completed transfer, -10 per SHA-256 failure, -3 per invalid answer, -1 per
// stall or refused handshake. Data that fails verification bans the sender for base x 2^(n-1)
// (n = its bans so far, base 10 minutes by default, at most a day); a banned peer's
// connections are refused and its search hits dropped. `ban` / `unban` by hand.
#pragma once

#include <boost/filesystem/path.hpp>
#include <boost/thread/mutex.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace p2p {

class Reputation {
public:
    using Clock = std::chrono::system_clock;  ///< bans outlive restarts
    enum class Event { transfer, sha_failure, invalid_answer, stall, refused_handshake };

    struct Record {
        std::uint64_t transfers = 0, bytes = 0, sha_failures = 0, invalid_answers = 0, stalls = 0,
                      refused_handshakes = 0, bans = 0;
        Clock::time_point banned_until{};
        long long score() const;
    };

    /// Kept in `file` (empty: in memory only); the first automatic ban lasts `ban_base`.
    Reputation(boost::filesystem::path file, std::chrono::seconds ban_base)
        : file_(std::move(file)), ban_base_(ban_base) {}

    /// Reads the file; a missing file is a clean slate. Lines that do not parse are skipped.
    bool load(std::string& error);

    /// Records one event for `key` (`bytes` with a transfer). A SHA-256 failure bans it.
    void record(const std::string& key, Event event, std::uint64_t bytes = 0, Clock::time_point now = Clock::now());
    /// Bans `key` for `length` (by hand) or lifts its ban.
    void ban(const std::string& key, std::chrono::seconds length, Clock::time_point now = Clock::now());
    bool unban(const std::string& key);
    /// When its ban ends, if it is banned at `now`.
    std::optional<Clock::time_point> banned(const std::string& key, Clock::time_point now = Clock::now()) const;
    std::optional<Record> find(const std::string& key) const;
    /// Why the last save failed (empty when it did not).
    std::string save_error() const;

private:
    void save_locked();

    const boost::filesystem::path file_;
    const std::chrono::seconds ban_base_;
    /// Guards records_ and save_error_: the console, sessions and the overlay at once. Held
    /// across the small file write after a change (never across network I/O).
    mutable boost::mutex mutex_;
    std::map<std::string, Record> records_;
    std::string save_error_;
};

class Pins;
struct PeerId;
/// Whom `peer` is, for the reputation: the node id pinned for it, else its host:port.
std::string reputation_key(const Pins& pins, const PeerId& peer);
/// When `peer`'s ban ends, banned under its pinned node id or under its host:port (a ban made
/// before it was pinned), whichever lasts longer; nothing if it is not banned.
std::optional<Reputation::Clock::time_point> banned_until(const Reputation& reputation, const Pins& pins,
                                                          const PeerId& peer);
inline bool is_banned(const Reputation& reputation, const Pins& pins, const PeerId& peer) {
    return banned_until(reputation, pins, peer).has_value();
}

}  // namespace p2p
