// The overlay: a small set of neighbours opened and replaced from the known peers, gossip of
// what each node knows, and searches flooded with a ttl whose hits come back along the path
// the query took (Gnutella 0.6's routing, on the lab's thread-per-connection design).
//
// Threads: sessions hand it the overlay lines they read (on_message; never blocks: every send
// is a queue append on an OverlayLink); its timer thread keeps the neighbours and gossips; the
// console runs search(). See docs/overlay.md.
#pragma once

#include "p2p/lab/file_index.hpp"
#include "p2p/overlay/known_peers.hpp"
#include "p2p/util/output.hpp"
#include "p2p/overlay/handshake.hpp"
#include "p2p/overlay/overlay_link.hpp"
#include "p2p/overlay/overlay_protocol.hpp"
#include "p2p/net/peer_id.hpp"
#include "p2p/trust/reputation.hpp"
#include "p2p/util/stop_event.hpp"

#include <boost/thread/condition_variable.hpp>
#include <boost/thread/mutex.hpp>
#include <boost/thread/thread.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace p2p {

/// A token bucket: `rate` per second with a burst of one second's worth.
struct RateBucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point at{};
    bool take(double rate);
};

/// What the overlay keeps about one incoming connection; owned by its session, so a peer
/// cannot grow the overlay's maps by inventing ids.
struct OverlayConnection {
    std::optional<PeerId> from;  ///< its id, from the handshake (handshake.hpp)
    bool link = false;           ///< it gossiped: an overlay link, which wants a link back
    RateBucket gossip, messages; ///< PEERS, and QUERY + HIT, per second
};

struct OverlayConfig {
    std::size_t neighbours = 8;                         ///< links we open by choice, at most
    std::vector<PeerId> bootstrap;                      ///< where to start
    std::chrono::milliseconds tick{1000};               ///< the timer's period
    std::chrono::milliseconds gossip_interval{2000};    ///< PEERS to every link this often
    std::chrono::milliseconds connect_timeout{1000};
    std::chrono::milliseconds retry_first{2000};        ///< a failed link is retried after this,
    std::chrono::seconds retry_max{60};                 ///< doubling each failure up to this
    /// A link refused (by the peer: a pin, a ban, busy; or by us) is retried after this,
    /// doubling each refusal up to refused_retry_max; a link that comes up resets it.
    std::chrono::milliseconds refused_retry_first{5000};
    std::chrono::seconds refused_retry_max{600};
    std::size_t max_links = 32;                         ///< chosen + reply links, at most
    std::size_t routing_capacity = 1024;                ///< queries remembered (in flight) at most
    std::chrono::seconds routing_ttl{60};               ///< a query id is remembered this long
    double forward_rate = 20;                           ///< queries per second to one neighbour
    double gossip_rate = 2;                             ///< PEERS per second accepted from one peer
    double message_rate = 50;                           ///< QUERY + HIT per second from one peer
    double new_link_rate = 1;                           ///< links to new addresses per second
    std::size_t max_holders = 64;                       ///< hits one search keeps
};

class Overlay {
public:
    /// `trace` (may be null) and `on` are handed to every link; hits from a holder
    /// `on.reputation` bans are dropped.
    Overlay(OverlayConfig config, PeerId self, const FileIndex& files, KnownPeers& known,
            Output& output, StopEvent& stop, const Trace* trace = nullptr, Capabilities on = {});
    ~Overlay();

    /// Starts the timer thread.
    void start();
    /// Stops the timer and every link, and joins them. Idempotent.
    void stop();

    /// A node said HELLO naming its own address (the handshake): an overlay node we know of.
    void on_hello(const PeerId& peer);
    /// One PEERS, QUERY or HIT line read by a session, with that connection's state. False:
    /// the connection must be closed (malformed, no id from the handshake, or a flood).
    bool on_message(OverlayConnection& connection, const std::string& line);

    /// What a search found.
    struct SearchResult {
        std::size_t hits = 0;
        std::size_t messages = 0;  ///< queries this node sent + hits that reached it
        bool interrupted = false;
        std::chrono::milliseconds took{0};
        std::chrono::milliseconds first_hit{-1};  ///< when the first hit came; -1: none
    };
    /// Floods a query for `name` with `ttl` and waits `wait` (or until `cancel`), calling
    /// `on_hit(holder, hops)` on the calling thread once per holder.
    SearchResult search(const std::string& name, unsigned ttl, std::chrono::milliseconds wait,
                        const std::atomic<bool>& cancel,
                        const std::function<void(const PeerId&, unsigned)>& on_hit);

    /// Our listening id, as HELLO carries it.
    const PeerId& self() const { return self_; }

    /// A link we chose (not a link back), up.
    bool is_neighbour(const PeerId& peer) const;
    /// How long until a link to `peer` may be tried again after it refused one (or we did);
    /// nothing when it is not backed off for a refusal.
    std::optional<std::chrono::seconds> refused_for(const PeerId& peer) const;
    /// The overlay as far as gossip tells: Graphviz DOT.
    std::string topology_dot() const;

private:
    struct Link {
        std::unique_ptr<OverlayLink> link;
        bool chosen = false;  ///< a neighbour (counts against config.neighbours)
        RateBucket forward;   ///< queries we forward on it
        bool is_neighbour() const { return chosen && link->state() == OverlayLink::State::up; }
    };
    struct Route {
        std::optional<PeerId> from;  ///< empty: our own search
        std::string filename;        ///< a hit for another name is not this query's
        std::chrono::steady_clock::time_point at;
    };
    struct Search {
        std::string name;
        std::map<PeerId, unsigned> holders;    ///< holder -> hops, each reported once
        std::vector<std::pair<PeerId, unsigned>> fresh;  ///< not yet given to on_hit
        std::size_t hit_messages = 0;
    };

    void timer_loop() noexcept;
    void tick();
    /// The live link to `peer`, or null.
    OverlayLink* existing_link_locked(const PeerId& peer);
    /// A link to `peer`, opening one if there is none, there is room, its backoff is over and
    /// the new-address budget allows; null otherwise.
    OverlayLink* link_to_locked(const PeerId& peer, bool chosen);
    std::string gossip_locked() const;
    void on_query(const PeerId& from, const overlay::Query& q);
    void on_hit(const PeerId& from, const overlay::Hit& h);

    const OverlayConfig config_;
    const PeerId self_;
    const Trace* const trace_;
    const Capabilities on_;
    const FileIndex& files_;
    KnownPeers& known_;
    Output& output_;
    StopEvent& stop_;

    /// Guards everything below: links, routes, searches, rates, the topology. Held only for
    /// map updates and queue appends (OverlayLink::send never blocks), never across I/O.
    mutable boost::mutex mutex_;
    boost::condition_variable hits_;  ///< a search's waiter wakes on a new hit
    std::map<PeerId, Link> links_;
    struct Retry {
        std::chrono::steady_clock::time_point at;
        unsigned failures = 0;
        bool refused = false;  ///< the last failure was a refusal: the longer back-off
    };
    std::map<PeerId, Retry> retry_;
    std::map<std::string, Route> routes_;
    std::map<std::string, Search> searches_;
    RateBucket new_links_;                      ///< links to new addresses
    /// Nodes that said HELLO and have no link back yet (the budget was spent): the timer opens
    /// one per tick. At most max_links, each kept routing_ttl.
    std::map<PeerId, std::chrono::steady_clock::time_point> wanted_back_;
    std::map<PeerId, std::set<PeerId>> edges_;  ///< what linked nodes say their neighbours are
    std::chrono::steady_clock::time_point last_gossip_{};
    bool stopped_ = false;
    boost::thread timer_;
};

}  // namespace p2p
