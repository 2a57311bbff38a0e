#include "p2p/dht/dht_announcer.hpp"

#include "p2p/util/worker_thread.hpp"

#include <boost/filesystem/operations.hpp>

#include <algorithm>
#include <random>

namespace p2p {
namespace {
// The presence key is read often while the node is new (it may have started before the
// others), then every 10th round only while the node knows too few peers: the key holds one
// value per node, which OpenDHT fetches one by one, so a read costs about 10 requests per node
// of the network (docs/benchmarks.md, "DHT against flooding"), far more than a file lookup.
constexpr unsigned eager_rounds = 5, discover_every = 10;
constexpr std::chrono::milliseconds discover_timeout{2000};
}  // namespace

DhtAnnouncer::DhtAnnouncer(Dht& dht, const FileIndex& files, PeerId self, StopEvent& stop,
                           std::function<void(const PeerId&)> on_peer, std::function<bool()> wants_peers,
                           std::chrono::milliseconds period)
    : dht_(dht), files_(files), self_(std::move(self)), stop_(stop), on_peer_(std::move(on_peer)),
      wants_peers_(std::move(wants_peers)), period_(period) {}

DhtAnnouncer::~DhtAnnouncer() { stop(); }

void DhtAnnouncer::start() {
    thread_ = start_worker("dht", [this] { loop(); });
}

void DhtAnnouncer::stop() {
    if (thread_.joinable()) thread_.join();
    for (const auto& name : announced_) dht_.withdraw(Dht::file_key(name));
    announced_.clear();
    dht_.withdraw(Dht::peers_key());
}

std::set<std::string> DhtAnnouncer::shared_names(const FileIndex& files) {
    std::set<std::string> names;
    boost::system::error_code ec;
    for (boost::filesystem::directory_iterator it(files.dir(), ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (FileIndex::is_safe_name(name) && files.contains(name)) names.insert(name);
        if (names.size() == max_files) break;
    }
    return names;
}

void DhtAnnouncer::loop() noexcept {
    try {
        dht_.announce(Dht::peers_key(), self_.to_string());
        for (unsigned round = 0; !stop_.is_set(); ++round) {
            reconcile();
            if (round < eager_rounds || (round % discover_every == 0 && wants_peers_())) discover_peers();
            if (stop_.wait_for(period_)) break;
        }
    } catch (const std::exception&) {
        // Nothing here should throw (bad_alloc at most): the node runs on without announcing.
    }
}

void DhtAnnouncer::reconcile() {
    const auto now = shared_names(files_);
    for (auto it = announced_.begin(); it != announced_.end();) {
        if (now.count(*it)) {
            ++it;
            continue;
        }
        dht_.withdraw(Dht::file_key(*it));
        it = announced_.erase(it);
    }
    for (const auto& name : now)
        if (announced_.insert(name).second) dht_.announce(Dht::file_key(name), self_.to_string());
}

std::optional<PeerId> parse_dht_value(const std::string& text) {
    const std::string first = text.substr(0, text.find(' '));
    if (first.find(':') == std::string::npos) return std::nullopt;
    std::string why;
    return parse_peer_id(first, "", why);  // a full host:port names its host itself
}

std::vector<PeerId> dht_peers(const std::vector<std::string>& values, const PeerId& self, std::size_t max) {
    std::vector<PeerId> out;
    for (const auto& text : values) {
        auto peer = parse_dht_value(text);
        if (peer && *peer != self && std::find(out.begin(), out.end(), *peer) == out.end()) out.push_back(*peer);
    }
    std::shuffle(out.begin(), out.end(), std::mt19937(std::random_device{}()));
    if (out.size() > max) out.resize(max);
    return out;
}

void DhtAnnouncer::discover_peers() {
    for (const auto& peer : dht_peers(dht_.lookup(Dht::peers_key(), discover_timeout, stop_.flag()), self_,
                                      max_peers_per_read))
        on_peer_(peer);
}

}  // namespace p2p
