#include "p2p/dht/dht.hpp"

#include "p2p/net/socket.hpp"
#include "p2p/util/worker_thread.hpp"

#include <opendht/dhtrunner.h>

#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <stdexcept>

namespace p2p {
namespace {

// A lookup keeps at most this many values, each at most value_bytes long: anyone on the
// network may put hundreds under a popular key, and each kept value costs the caller a probe.
constexpr std::size_t max_values = 64, value_bytes = 256;
// The lookups whose times the median is taken over: the most recent ones.
constexpr std::size_t timed_lookups = 256;
// A lookup that found values ends after this long without a new one.
constexpr std::chrono::milliseconds settle{300};

dht::InfoHash key_hash(const std::string& key_text) { return dht::InfoHash::get(key_text); }

// One id per (owner, key), the same across restarts: a re-announce replaces, never duplicates.
dht::Value::Id value_id(const std::string& owner, const std::string& key_text) {
    const auto h = dht::InfoHash::get(owner + "\n" + key_text);
    dht::Value::Id id = 0;
    std::memcpy(&id, h.data(), sizeof id);
    return id ? id : 1;  // 0 is OpenDHT's "no id"
}

// What one lookup's callbacks share with the waiting caller; shared, so a callback arriving
// after the caller gave up still has somewhere to write.
struct LookupState {
    std::mutex mutex;  ///< guards values and done: OpenDHT's thread writes, the caller reads
    std::condition_variable changed;
    std::vector<std::string> values;
    bool done = false;
    std::atomic<bool> abandoned{false};  ///< the caller left: the get may stop
};

}  // namespace

struct Dht::Impl {
    explicit Impl(std::string o) : owner(std::move(o)) {}
    const std::string owner;
    dht::DhtRunner runner;
    std::uint32_t network = 0;
    /// Guards running, port, offered, announced and lookup_ms: the console, the announcer,
    /// sessions (add_node) and stop() use them. Never held while waiting on a lookup; runner
    /// calls made under it only queue work.
    mutable std::mutex mutex;
    /// Shared by each call that reads OpenDHT's statistics, exclusive around join(): those
    /// calls dereference the engine that join() frees (OpenDHT checks nothing).
    mutable std::shared_mutex lifetime;
    bool running = false;
    std::uint16_t port = 0;
    /// host -> the last port given to add_node, max_offered_nodes hosts at most: one entry per
    /// host, so a peer that reconnects with ever new ports cannot use up the room.
    std::map<std::string, std::uint16_t> offered;
    std::map<std::string, std::string> announced;  ///< key text -> our value there
    std::vector<long long> lookup_ms;
    std::size_t lookups = 0;
    /// OpenDHT's message counters reset when read: count_messages() adds them up here.
    std::uint64_t sent = 0, answered = 0;

    /// Adds OpenDHT's find and get counts since the last call (the runner is asked without
    /// our mutex held); returns the requests sent so far.
    std::uint64_t count_messages() {
        std::shared_lock<std::shared_mutex> alive(lifetime);
        {
            std::lock_guard<std::mutex> lock(mutex);
            if (!running) return sent;
        }
        const auto out = runner.getNodeMessageStats(false), in = runner.getNodeMessageStats(true);
        // {ping, find, get, listen, put}
        std::lock_guard<std::mutex> lock(mutex);
        if (out.size() > 2) sent += out[1] + out[2];
        if (in.size() > 2) answered += in[1] + in[2];
        return sent;
    }
};

Dht::Dht(std::string owner) : impl_(std::make_unique<Impl>(std::move(owner))) {}

Dht::~Dht() { stop(); }

void Dht::start(const DhtOptions& options) {
    dht::DhtRunner::Config config;
    config.threaded = true;
    auto& node = config.dht_config.node_config;
    node.network = options.network;
    if (options.unlimited_rates) {
        node.max_req_per_sec = -1;
        node.max_peer_req_per_sec = -1;
    }
    // The node's own address only, as its TCP listener (DhtOptions::host).
    sa_family_t family = AF_INET;
    if (!options.host.empty()) {
        sockaddr_storage addr;
        unsigned len = 0;
        if (!make_address(options.host, options.port, addr, len))
            throw std::runtime_error("'" + options.host + "' is not a numeric address");
        family = addr.ss_family;
        (family == AF_INET ? config.bind4 : config.bind6) = dht::SockAddr(addr, len);
    }
    const std::string taken = "UDP port " + std::to_string(options.port) +
                              (options.host.empty() ? "" : " on " + options.host) + " could not be bound (in use?)";
    try {
        SignalBlock block;  // OpenDHT's threads start in run() and inherit it: signals stay with main
        if (options.host.empty()) impl_->runner.run(options.port, config);
        else impl_->runner.run(config, {});
    } catch (const std::exception& e) {
        // Its only socket failed (one address given): OpenDHT throws after marking itself running.
        impl_->runner.join();
        throw std::runtime_error(taken + " (" + e.what() + ")");
    }
    // With both families OpenDHT does not fail when one cannot bind: it runs on without that
    // socket. Say so instead.
    const std::uint16_t bound = impl_->runner.getBoundPort(family);
    if (bound == 0) {
        impl_->runner.join();
        throw std::runtime_error(taken);
    }
    // Copies we store of anyone's announcements expire after `expiry` without a refresh, and
    // our own are refreshed before that; withdrawn ones vanish within it (docs/protocol.md).
    impl_->runner.registerType(dht::ValueType(DhtOptions::value_type, "p2p-node announcement", options.expiry));
    {
        std::lock_guard<std::mutex> lock(impl_->mutex);
        impl_->running = true;
        impl_->network = options.network;
        impl_->port = bound;
    }
    for (const auto& b : options.bootstrap) {
        // "host:port" or "[v6]:port"
        const auto colon = b.rfind(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == b.size())
            throw std::runtime_error("bootstrap '" + b + "' is not host:port");
        std::string host = b.substr(0, colon);
        if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
        impl_->runner.bootstrap(host, b.substr(colon + 1));
    }
}

bool Dht::running() const {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    return impl_->running;
}

std::uint16_t Dht::port() const {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    return impl_->running ? impl_->port : 0;
}

void Dht::add_node(const std::string& host, std::uint16_t port) {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    // Under the lock: stop() clears `running` under it, so nothing is queued after its join.
    if (!impl_->running) return;
    auto it = impl_->offered.find(host);
    if (it == impl_->offered.end()) {
        if (impl_->offered.size() >= max_offered_nodes) return;
        impl_->offered.emplace(host, port);
    } else if (it->second == port) {
        return;
    } else {
        it->second = port;
    }
    impl_->runner.bootstrap(host, std::to_string(port));  // queued; resolved and pinged on OpenDHT's thread
}

void Dht::stop() {
    std::map<std::string, std::string> was;
    {
        std::lock_guard<std::mutex> lock(impl_->mutex);
        if (!impl_->running) return;
        impl_->running = false;
        was.swap(impl_->announced);
    }
    // Stops refreshing; OpenDHT sends nothing for it (the copies expire: docs/protocol.md).
    for (const auto& [key, value] : was) impl_->runner.cancelPut(key_hash(key), value_id(impl_->owner, key));
    // No shutdown() first: without storage maintenance it says no goodbye, it only waits for
    // the operations in flight (our abandoned gets), up to seconds.
    std::unique_lock<std::shared_mutex> alone(impl_->lifetime);
    impl_->runner.join();  // OpenDHT's threads end here, never in a callback of theirs
}

void Dht::announce(const std::string& key_text, const std::string& value) {
    {
        std::lock_guard<std::mutex> lock(impl_->mutex);
        if (!impl_->running) return;
        auto it = impl_->announced.find(key_text);
        if (it != impl_->announced.end() && it->second == value) return;  // OpenDHT refreshes it
        impl_->announced[key_text] = value;
    }
    // Raw bytes: the UTF-8 text itself, readable by any OpenDHT client (not a msgpack'd string).
    auto v = std::make_shared<dht::Value>(reinterpret_cast<const std::uint8_t*>(value.data()), value.size());
    v->id = value_id(impl_->owner, key_text);
    v->type = DhtOptions::value_type;
    impl_->runner.put(key_hash(key_text), v, dht::DoneCallbackSimple{}, dht::time_point::max(), true);
}

void Dht::withdraw(const std::string& key_text) {
    {
        std::lock_guard<std::mutex> lock(impl_->mutex);
        if (!impl_->running || impl_->announced.erase(key_text) == 0) return;
    }
    impl_->runner.cancelPut(key_hash(key_text), value_id(impl_->owner, key_text));
}

std::vector<std::string> Dht::announced() const {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    std::vector<std::string> keys;
    for (const auto& kv : impl_->announced) keys.push_back(kv.first);
    return keys;
}

std::vector<std::string> Dht::lookup(const std::string& key_text, std::chrono::milliseconds timeout,
                                     const std::atomic<bool>& cancel, LookupStats* stats) {
    if (!running()) return {};
    const std::uint64_t sent_before = stats ? impl_->count_messages() : 0;
    const auto t0 = std::chrono::steady_clock::now();
    auto state = std::make_shared<LookupState>();
    impl_->runner.get(
        key_hash(key_text),
        [state](const std::vector<std::shared_ptr<dht::Value>>& values) {
            std::lock_guard<std::mutex> lock(state->mutex);
            for (const auto& v : values)
                if (v->type == DhtOptions::value_type && v->data.size() <= value_bytes && state->values.size() < max_values)
                    state->values.emplace_back(v->data.begin(), v->data.end());
            state->changed.notify_all();
            return !state->abandoned.load();
        },
        [state](bool, const std::vector<std::shared_ptr<dht::Node>>&) {
            std::lock_guard<std::mutex> lock(state->mutex);
            state->done = true;
            state->changed.notify_all();
        });
    std::vector<std::string> out;
    {
        std::unique_lock<std::mutex> lock(state->mutex);
        const auto deadline = t0 + timeout;
        std::size_t had = 0;
        auto last_new = t0;
        auto first = t0;
        // In 100 ms slices: `cancel` is a plain flag (Ctrl-C), not something that notifies us.
        for (;;) {
            const auto now = std::chrono::steady_clock::now();
            if (state->values.size() != had) {
                if (had == 0) first = now;
                had = state->values.size();
                last_new = now;
            }
            // OpenDHT reports "done" only once every node near the key answered or timed out,
            // seconds in a small network: values followed by a quiet spell are enough.
            if (state->done || cancel.load() || now >= deadline || (had > 0 && now - last_new >= settle)) break;
            state->changed.wait_for(lock, std::min<std::chrono::steady_clock::duration>(
                                              std::chrono::milliseconds(100), deadline - now));
        }
        out = state->values;
        if (stats) stats->first_value_ms = had ? std::chrono::duration_cast<std::chrono::milliseconds>(first - t0).count() : -1;
    }
    state->abandoned = true;
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    const long long ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    if (stats) {
        stats->requests = impl_->count_messages() - sent_before;
        stats->ms = ms;
    }
    std::lock_guard<std::mutex> lock(impl_->mutex);
    ++impl_->lookups;
    if (impl_->lookup_ms.size() == timed_lookups) impl_->lookup_ms.erase(impl_->lookup_ms.begin());
    impl_->lookup_ms.push_back(ms);
    return out;
}

Dht::Status Dht::status() const {
    Status s;
    std::vector<long long> ms;
    if (running()) impl_->count_messages();
    {
        std::lock_guard<std::mutex> lock(impl_->mutex);
        s.running = impl_->running;
        s.network = impl_->network;
        s.announced = impl_->announced.size();
        s.lookups = impl_->lookups;
        s.requests_sent = impl_->sent;
        s.requests_answered = impl_->answered;
        s.port = impl_->running ? impl_->port : 0;
        ms = impl_->lookup_ms;
    }
    if (!s.running) return s;
    {
        std::shared_lock<std::shared_mutex> alive(impl_->lifetime);
        if (running()) {
            unsigned cached = 0, incoming = 0;
            impl_->runner.getNodesStats(AF_INET, &s.good_nodes, &s.dubious_nodes, &cached, &incoming);
        }
    }
    if (!ms.empty()) {
        std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
        s.median_ms = ms[ms.size() / 2];
    }
    return s;
}

}  // namespace p2p
