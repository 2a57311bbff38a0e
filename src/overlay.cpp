#include "p2p/overlay.hpp"

#include "p2p/worker_thread.hpp"

#include <boost/thread/lock_guard.hpp>

#include <algorithm>
#include <random>

namespace p2p {
namespace ov = overlay;
using SteadyClock = std::chrono::steady_clock;

bool Overlay::Bucket::take(double rate) {
    const auto now = SteadyClock::now();
    if (at == SteadyClock::time_point{}) tokens = rate;  // a new peer starts with a full bucket
    else tokens = std::min(rate, tokens + rate * std::chrono::duration<double>(now - at).count());
    at = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
}

Overlay::Overlay(OverlayConfig config, PeerId self, const FileIndex& files, KnownPeers& known,
                 Output& output, StopEvent& stop)
    : config_(std::move(config)), self_(std::move(self)), files_(files), known_(known),
      output_(output), stop_(stop) {
    for (const auto& b : config_.bootstrap)
        if (b != self_) known_.seen(b, KnownPeers::Clock::now(), true);
}

Overlay::~Overlay() { stop(); }

void Overlay::start() { timer_ = start_worker("gossip", [this] { timer_loop(); }); }

void Overlay::stop() {
    std::map<PeerId, Link> links;
    {
        boost::lock_guard<boost::mutex> lock(mutex_);
        stopped_ = true;
        links.swap(links_);
    }
    hits_.notify_all();
    for (auto& [id, l] : links) l.link->stop();  // each joins its thread
    if (timer_.joinable()) timer_.join();          // the caller has set the stop event
}

void Overlay::timer_loop() noexcept {
    do {
        try {
            tick();
        } catch (...) {
            // Out of memory or threads in one tick: the next tick tries again.
        }
    } while (!stop_.wait_for(config_.tick));
}

void Overlay::tick() {
    const auto now = SteadyClock::now();
    known_.expire();
    // Candidates for a new neighbour: overlay nodes we know of, not linked, not waiting out a
    // failure. Taken from the known list before locking (its own lock, never under ours).
    std::vector<PeerId> candidates;
    for (const auto& e : known_.list())
        if (e.overlay && e.id != self_) candidates.push_back(e.id);

    std::vector<PeerId> up;
    {
        boost::lock_guard<boost::mutex> lock(mutex_);
        for (const auto& [id, l] : links_)
            if (l.link->state() == OverlayLink::State::up) up.push_back(id);
    }
    for (const auto& id : up) known_.seen(id, KnownPeers::Clock::now(), true);  // it answers

    boost::lock_guard<boost::mutex> lock(mutex_);
    if (stopped_) return;
    std::size_t chosen = 0;
    for (auto it = links_.begin(); it != links_.end();) {
        if (it->second.link->state() == OverlayLink::State::failed) {
            // A bootstrap node not up yet, a neighbour gone: back off, doubling, to a bound.
            auto& r = retry_[it->first];
            const auto delay = std::min<std::chrono::milliseconds>(
                config_.retry_max, config_.retry_first * (1u << std::min(r.failures, 10u)));
            r = {now + delay, r.failures + 1};
            edges_.erase(it->first);
            it = links_.erase(it);  // stop() joins its finished thread
        } else {
            if (it->second.link->state() == OverlayLink::State::up) retry_.erase(it->first);
            chosen += it->second.chosen ? 1 : 0;
            ++it;
        }
    }
    for (auto it = routes_.begin(); it != routes_.end();) {
        if (now - it->second.at > config_.routing_ttl && !searches_.count(it->first)) it = routes_.erase(it);
        else ++it;
    }
    // At most one new address per tick, and never more than the neighbour count at once: a
    // gossiped list cannot make this node a scanner of someone else's network.
    candidates.erase(std::remove_if(candidates.begin(), candidates.end(), [&](const PeerId& p) {
        auto r = retry_.find(p);
        return links_.count(p) || (r != retry_.end() && r->second.at > now);
    }), candidates.end());
    if (chosen < config_.neighbours && !candidates.empty()) {
        static thread_local std::mt19937 rng(std::random_device{}());
        const PeerId pick = candidates[std::uniform_int_distribution<std::size_t>(0, candidates.size() - 1)(rng)];
        link_to_locked(pick, true);
    }
    if (now - last_gossip_ >= config_.gossip_interval) {
        last_gossip_ = now;
        const std::string peers = gossip_locked();
        for (auto& [id, l] : links_) l.link->send(peers);
    }
}

OverlayLink* Overlay::link_to_locked(const PeerId& peer, bool chosen) {
    auto it = links_.find(peer);
    if (it != links_.end() && it->second.link->state() != OverlayLink::State::failed) {
        it->second.chosen = it->second.chosen || chosen;
        return it->second.link.get();
    }
    if (stopped_ || peer == self_ || (it == links_.end() && links_.size() >= config_.max_links))
        return nullptr;
    if (it != links_.end()) links_.erase(it);
    auto link = std::make_unique<OverlayLink>(peer, ov::format_hello(self_) + gossip_locked(),
                                              config_.connect_timeout);
    try {
        link->start();
    } catch (const std::exception&) {  // no thread: no link, the next tick tries again
        return nullptr;
    }
    return links_.emplace(peer, Link{std::move(link), chosen}).first->second.link.get();
}

std::string Overlay::gossip_locked() const {
    std::vector<ov::Peers::Entry> entries;
    for (const auto& [id, l] : links_)
        if (l.chosen && l.link->state() == OverlayLink::State::up) entries.push_back({id, true});
    for (const auto& e : known_.list()) {
        if (entries.size() >= ov::max_gossip_ids) break;
        if (e.overlay && e.id != self_ && !(links_.count(e.id) && links_.at(e.id).chosen))
            entries.push_back({e.id, false});
    }
    return ov::format_peers(entries);
}

bool Overlay::on_message(std::optional<PeerId>& from, const std::string& line) {
    const ov::Message m = ov::parse(line);
    switch (m.kind) {
    case ov::Message::Kind::none:
    case ov::Message::Kind::invalid: return false;
    case ov::Message::Kind::hello: {
        if (m.hello.id == self_ || from) return false;  // one HELLO per connection, not from us
        from = m.hello.id;
        known_.seen(*from, KnownPeers::Clock::now(), true);
        boost::lock_guard<boost::mutex> lock(mutex_);
        std::size_t chosen = 0;
        for (const auto& [id, l] : links_) chosen += l.chosen ? 1 : 0;
        link_to_locked(*from, chosen < config_.neighbours);  // the way back to it
        return true;
    }
    case ov::Message::Kind::peers: {
        if (!from) return false;
        {
            boost::lock_guard<boost::mutex> lock(mutex_);
            if (!gossip_buckets_[*from].take(config_.gossip_rate)) return false;  // a flood
            auto& edges = edges_[*from];
            edges.clear();
            for (const auto& e : m.peers.entries)
                if (e.neighbour) edges.insert(e.id);
        }
        for (const auto& e : m.peers.entries)
            if (e.id != self_) known_.heard_of(e.id, true);
        return true;
    }
    case ov::Message::Kind::query:
        if (!from) return false;
        on_query(*from, m.query);
        return true;
    case ov::Message::Kind::hit:
        if (!from) return false;
        on_hit(*from, m.hit);
        return true;
    }
    return false;
}

void Overlay::on_query(const PeerId& from, const ov::Query& q) {
    const bool here = files_.contains(q.filename);  // file I/O: before the lock
    bool fresh = false;
    {
        boost::lock_guard<boost::mutex> lock(mutex_);
        // A query id seen before (a cycle in the overlay), or too many in flight: dropped.
        if (routes_.count(q.qid) || routes_.size() >= config_.routing_capacity) return;
        routes_[q.qid] = {from, SteadyClock::now()};
        fresh = true;
        if (here)
            if (auto* back = link_to_locked(from, false))
                back->send(ov::format_hit({q.qid, q.hops, self_, q.filename}));
        if (q.ttl > 1) {
            const std::string next = ov::format_query({q.qid, q.ttl - 1, q.hops + 1, q.filename});
            for (auto& [id, l] : links_)
                if (id != from && forward_buckets_[id].take(config_.forward_rate)) l.link->send(next);
        }
    }
    if (fresh)
        output_.server_line("Query for " + q.filename + " from " + from.to_string() + " (" +
                            std::to_string(q.hops) + (q.hops == 1 ? " hop" : " hops") + "): " +
                            (here ? "found here." : "not here."));
}

void Overlay::on_hit(const PeerId& from, const ov::Hit& h) {
    (void)from;
    boost::lock_guard<boost::mutex> lock(mutex_);
    auto r = routes_.find(h.qid);
    if (r == routes_.end()) return;  // never seen, or forgotten: nowhere to send it
    if (r->second.from) {
        if (auto* back = link_to_locked(*r->second.from, false)) back->send(ov::format_hit(h));
        return;
    }
    auto s = searches_.find(h.qid);
    if (s == searches_.end()) return;  // our search has ended
    ++s->second.hit_messages;
    if (s->second.holders.emplace(h.holder, h.hops).second) {
        s->second.fresh.emplace_back(h.holder, h.hops);
        hits_.notify_all();
    }
}

Overlay::SearchResult Overlay::search(const std::string& name, unsigned ttl,
                                      std::chrono::milliseconds wait, const std::atomic<bool>& cancel,
                                      const std::function<void(const PeerId&, unsigned)>& on_hit) {
    const auto start = SteadyClock::now();
    const auto deadline = start + wait;
    SearchResult result;
    const std::string qid = ov::new_qid();
    boost::unique_lock<boost::mutex> lock(mutex_);
    routes_[qid] = {std::nullopt, start};
    searches_[qid].name = name;
    const std::string query = ov::format_query({qid, std::min(ttl, ov::max_ttl), 1, name});
    for (auto& [id, l] : links_)
        if (l.link->send(query)) ++result.messages;
    while (!stopped_) {
        auto& s = searches_[qid];
        std::vector<std::pair<PeerId, unsigned>> fresh;
        fresh.swap(s.fresh);
        if (!fresh.empty()) {
            lock.unlock();
            for (const auto& [holder, hops] : fresh) on_hit(holder, hops);
            lock.lock();
            continue;
        }
        if (cancel.load()) {
            result.interrupted = true;
            break;
        }
        const auto now = SteadyClock::now();
        if (now >= deadline) break;
        // Short slices: Ctrl-C sets `cancel` from a signal handler, which cannot notify.
        hits_.wait_for(lock, boost::chrono::milliseconds(
            std::min<long long>(100, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count())));
    }
    auto& s = searches_[qid];
    result.hits = s.holders.size();
    result.messages += s.hit_messages;
    searches_.erase(qid);  // the route stays until it expires: late hits end there quietly
    result.took = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start);
    return result;
}

std::vector<PeerId> Overlay::neighbours() const {
    boost::lock_guard<boost::mutex> lock(mutex_);
    std::vector<PeerId> out;
    for (const auto& [id, l] : links_)
        if (l.chosen && l.link->state() == OverlayLink::State::up) out.push_back(id);
    return out;
}

bool Overlay::is_neighbour(const PeerId& peer) const {
    boost::lock_guard<boost::mutex> lock(mutex_);
    auto it = links_.find(peer);
    return it != links_.end() && it->second.chosen && it->second.link->state() == OverlayLink::State::up;
}

std::string Overlay::topology_dot() const {
    std::set<std::pair<std::string, std::string>> edges;
    std::set<std::string> nodes{self_.to_string()};
    auto add = [&](const PeerId& a, const PeerId& b) {
        std::string x = a.to_string(), y = b.to_string();
        nodes.insert(x);
        nodes.insert(y);
        edges.emplace(std::min(x, y), std::max(x, y));  // one undirected edge per pair
    };
    for (const auto& e : known_.list())
        if (e.overlay) nodes.insert(e.id.to_string());
    {
        boost::lock_guard<boost::mutex> lock(mutex_);
        for (const auto& [id, l] : links_)
            if (l.chosen && l.link->state() == OverlayLink::State::up) add(self_, id);
        for (const auto& [from, to] : edges_)
            for (const auto& n : to) add(from, n);
    }
    std::string dot = "graph overlay {\n  node [shape=box, fontname=\"monospace\"];\n";
    for (const auto& n : nodes)
        dot += "  \"" + n + "\"" + (n == self_.to_string() ? " [style=bold]" : "") + ";\n";
    for (const auto& [a, b] : edges) dot += "  \"" + a + "\" -- \"" + b + "\";\n";
    return dot + "}\n";
}

}  // namespace p2p
