#include "p2p/overlay/overlay.hpp"

#include "p2p/util/worker_thread.hpp"

#include <boost/thread/lock_guard.hpp>

#include <algorithm>
#include <random>

namespace p2p {
namespace ov = overlay;
using SteadyClock = std::chrono::steady_clock;

bool RateBucket::take(double rate) {
    const auto now = SteadyClock::now();
    if (at == SteadyClock::time_point{}) tokens = rate;  // a new peer starts with a full bucket
    else tokens = std::min(rate, tokens + rate * std::chrono::duration<double>(now - at).count());
    at = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
}

Overlay::Overlay(OverlayConfig config, PeerId self, const FileIndex& files, KnownPeers& known,
                 Output& output, StopEvent& stop, const Trace* trace, Capabilities on)
    : config_(std::move(config)), self_(std::move(self)), trace_(trace), on_(on),
      files_(files),
      known_(known),
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
    // Tell every link first, then join: a stop costs one link's wake-up, not the sum of them.
    for (auto& [id, l] : links) l.link->request_stop();
    for (auto& [id, l] : links) l.link->join();
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
            // A bootstrap node not up yet, a neighbour gone: back off, doubling, to a bound. A
            // refusal backs off longer (no retry storm on the refusing node), said once.
            auto& r = retry_[it->first];
            const std::string& refusal = it->second.link->refusal();
            const bool refused = !refusal.empty();
            if (refused && !r.refused) r.failures = 0;
            const auto delay = refused ? std::min<std::chrono::milliseconds>(
                                             config_.refused_retry_max,
                                             config_.refused_retry_first * (1u << std::min(r.failures, 10u)))
                                       : std::min<std::chrono::milliseconds>(
                                             config_.retry_max, config_.retry_first * (1u << std::min(r.failures, 10u)));
            if (refused && !r.refused)
                output_.line("Overlay link to " + it->first.to_string() + " " + refusal + "; backing off (next try in " +
                             std::to_string(std::chrono::duration_cast<std::chrono::seconds>(delay).count()) +
                             " s, doubling to " + std::to_string(config_.refused_retry_max.count()) + " s; 'peers' shows it).");
            r = {now + delay, r.failures + 1, refused};
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
    for (auto it = retry_.begin(); it != retry_.end();) {  // long over: forget the failures
        const auto keep = it->second.refused ? std::chrono::duration_cast<std::chrono::milliseconds>(config_.refused_retry_max)
                                             : std::chrono::duration_cast<std::chrono::milliseconds>(config_.retry_max);
        if (!links_.count(it->first) && now - it->second.at > keep) it = retry_.erase(it);
        else ++it;
    }
    // At most one new address per tick, and never more than the neighbour count at once: a
    // gossiped list cannot make this node a scanner of someone else's network.
    candidates.erase(std::remove_if(candidates.begin(), candidates.end(), [&](const PeerId& p) {
        auto r = retry_.find(p);
        return links_.count(p) || (r != retry_.end() && r->second.at > now);
    }), candidates.end());
    for (auto it = wanted_back_.begin(); it != wanted_back_.end();) {
        if (existing_link_locked(it->first) || now - it->second > config_.routing_ttl) {
            it = wanted_back_.erase(it);
        } else if (link_to_locked(it->first, false)) {
            it = wanted_back_.erase(it);
        } else {
            ++it;
        }
    }
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

OverlayLink* Overlay::existing_link_locked(const PeerId& peer) {
    auto it = links_.find(peer);
    if (it == links_.end() || it->second.link->state() == OverlayLink::State::failed) return nullptr;
    return it->second.link.get();
}

OverlayLink* Overlay::link_to_locked(const PeerId& peer, bool chosen) {
    if (auto* live = existing_link_locked(peer)) {
        links_.at(peer).chosen = links_.at(peer).chosen || chosen;
        return live;
    }
    auto it = links_.find(peer);
    if (stopped_ || peer == self_ || (it == links_.end() && links_.size() >= config_.max_links))
        return nullptr;
    // Every new connection, whoever asked for it, waits out the peer's backoff and takes from
    // one budget: nothing a peer says can make this node connect faster than that.
    auto r = retry_.find(peer);
    if (r != retry_.end() && r->second.at > SteadyClock::now()) return nullptr;
    if (!new_links_.take(config_.new_link_rate)) return nullptr;
    if (it != links_.end()) links_.erase(it);
    auto link = std::make_unique<OverlayLink>(peer, self_, gossip_locked(), config_.connect_timeout,
                                              trace_, on_);
    try {
        link->start();
    } catch (const std::exception&) {  // no thread: no link, the next tick tries again
        return nullptr;
    }
    return links_.emplace(peer, Link{std::move(link), chosen, {}}).first->second.link.get();
}

std::string Overlay::gossip_locked() const {
    std::vector<ov::Peers::Entry> entries;
    for (const auto& [id, l] : links_)
        if (l.is_neighbour()) entries.push_back({id, true, 0});
    const auto now = KnownPeers::Clock::now();
    for (const auto& e : known_.list()) {
        if (entries.size() >= ov::max_gossip_ids) break;
        if (e.overlay && e.id != self_ && !(links_.count(e.id) && links_.at(e.id).chosen)) {
            const auto age = std::chrono::duration_cast<std::chrono::seconds>(now - e.last_seen).count();
            entries.push_back({e.id, false, static_cast<std::uint32_t>(std::clamp<long long>(age, 0, 999999999))});
        }
    }
    return ov::format_peers(entries);
}

void Overlay::on_hello(const PeerId& peer) {
    known_.heard_of(peer, true);  // seen first-hand once a link to it is up or it answers us
}

bool Overlay::on_message(OverlayConnection& c, const std::string& line) {
    const ov::Message m = ov::parse(line);
    switch (m.kind) {
    case ov::Message::Kind::none:
    case ov::Message::Kind::invalid: return false;
    case ov::Message::Kind::hello: return false;  // the handshake's, taken by the session
    case ov::Message::Kind::peers: {
        if (!c.from || !c.gossip.take(config_.gossip_rate)) return false;  // a flood
        {
            boost::lock_guard<boost::mutex> lock(mutex_);
            // Every HELLO ends a handshake, the console's connections too; only a link gossips.
            // The way back to it now if the budget allows, else from the timer.
            if (!c.link && !link_to_locked(*c.from, false) && wanted_back_.size() < config_.max_links)
                wanted_back_[*c.from] = SteadyClock::now();
            c.link = true;
            if (existing_link_locked(*c.from)) {  // edges only from nodes we are linked to
                auto& edges = edges_[*c.from];
                edges.clear();
                for (const auto& e : m.peers.entries)
                    if (e.neighbour) edges.insert(e.id);
            }
        }
        // Heard of as long ago as the sender says it saw them: a dead node ages out everywhere.
        const auto now = KnownPeers::Clock::now();
        for (const auto& e : m.peers.entries)
            if (e.id != self_) known_.heard_of(e.id, true, now - std::chrono::seconds(e.age));
        return true;
    }
    case ov::Message::Kind::query:
        if (!c.from || !c.messages.take(config_.message_rate)) return false;
        on_query(*c.from, m.query);
        return true;
    case ov::Message::Kind::hit:
        if (!c.from || !c.messages.take(config_.message_rate)) return false;
        on_hit(*c.from, m.hit);
        return true;
    }
    return false;
}

void Overlay::on_query(const PeerId& from, const ov::Query& q) {
    if (!ov::acceptable(q)) return;  // a ttl + hops no origin sends: not forwarded either
    const bool here = files_.contains(q.filename);  // file I/O: before the lock
    {
        boost::lock_guard<boost::mutex> lock(mutex_);
        if (routes_.count(q.qid)) return;  // seen before: a cycle in the overlay
        if (routes_.size() >= config_.routing_capacity) {
            // Full: the oldest query makes room, so a flood cannot stop us relaying for long.
            auto oldest = std::min_element(routes_.begin(), routes_.end(), [this](const auto& a, const auto& b) {
                return !searches_.count(a.first) && (searches_.count(b.first) || a.second.at < b.second.at);
            });
            if (oldest == routes_.end() || searches_.count(oldest->first)) return;
            routes_.erase(oldest);
        }
        routes_[q.qid] = {from, q.filename, SteadyClock::now()};
        if (here)
            if (auto* back = existing_link_locked(from))
                back->send(ov::format_hit({q.qid, q.hops, self_, q.filename}));
        if (auto next = ov::next_hop(q)) {
            const std::string line = ov::format_query(*next);
            for (auto& [id, l] : links_)
                if (id != from && l.forward.take(config_.forward_rate)) l.link->send(line);
        }
    }
    output_.server_line("Query for " + q.filename + " from " + from.to_string() + " (" +
                        std::to_string(q.hops) + (q.hops == 1 ? " hop" : " hops") + "): " +
                        (here ? "found here." : "not here."));
}

void Overlay::on_hit(const PeerId& from, const ov::Hit& h) {
    (void)from;
    boost::lock_guard<boost::mutex> lock(mutex_);
    auto r = routes_.find(h.qid);
    // Never seen, forgotten, or a hit for another name: nowhere to send it.
    if (r == routes_.end() || r->second.filename != h.filename) return;
    if (r->second.from) {
        if (auto* back = existing_link_locked(*r->second.from)) back->send(ov::format_hit(h));
        return;
    }
    auto s = searches_.find(h.qid);
    if (s == searches_.end()) return;  // our search has ended
    if (on_.reputation && on_.pins && is_banned(*on_.reputation, *on_.pins, h.holder)) return;  // banned
    ++s->second.hit_messages;
    if (s->second.holders.size() < config_.max_holders && s->second.holders.emplace(h.holder, h.hops).second) {
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
    routes_[qid] = {std::nullopt, name, start};
    searches_[qid].name = name;
    const std::string query = ov::format_query({qid, std::min(ttl, ov::max_ttl), 1, name});
    for (auto& [id, l] : links_)
        if (l.link->send(query)) ++result.messages;
    // No link took the query: no hit can come, and nothing is worth waiting for.
    while (!stopped_ && result.messages > 0) {
        auto& s = searches_[qid];
        std::vector<std::pair<PeerId, unsigned>> fresh;
        fresh.swap(s.fresh);
        if (!fresh.empty()) {
            if (result.first_hit.count() < 0)
                result.first_hit = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start);
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

std::optional<std::chrono::seconds> Overlay::refused_for(const PeerId& peer) const {
    boost::lock_guard<boost::mutex> lock(mutex_);
    const auto it = retry_.find(peer);
    const auto now = SteadyClock::now();
    if (it == retry_.end() || !it->second.refused || it->second.at <= now) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::seconds>(it->second.at - now) + std::chrono::seconds(1);
}

bool Overlay::is_neighbour(const PeerId& peer) const {
    boost::lock_guard<boost::mutex> lock(mutex_);
    auto it = links_.find(peer);
    return it != links_.end() && it->second.is_neighbour();
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
            if (l.is_neighbour()) add(self_, id);
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
