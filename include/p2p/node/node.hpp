// A node: the listener, its sessions, the outgoing connections, the exit event. The console
// (or a test) calls it; it prints only server-side lines.
#pragma once

#include "p2p/lab/client.hpp"
#include "p2p/lab/scan.hpp"
#include "p2p/node/node_config.hpp"
#include "p2p/dht/dht.hpp"
#include "p2p/dht/dht_announcer.hpp"
#include "p2p/lab/file_index.hpp"
#include "p2p/net/identity.hpp"
#include "p2p/swarm/indexer.hpp"
#include "p2p/trust/network_secret.hpp"
#include "p2p/net/tls.hpp"
#include "p2p/overlay/known_peers.hpp"
#include "p2p/overlay/overlay.hpp"
#include "p2p/util/stop_event.hpp"
#include "p2p/lab/listener.hpp"
#include "p2p/util/output.hpp"
#include "p2p/net/peer_id.hpp"
#include "p2p/trust/handshake_slots.hpp"
#include "p2p/lab/peer_table.hpp"
#include "p2p/trust/pins.hpp"
#include "p2p/net/rate_limit.hpp"
#include "p2p/trust/reputation.hpp"
#include "p2p/lab/session.hpp"
#include "p2p/overlay/handshake.hpp"
#include "p2p/lab/session_registry.hpp"
#include "p2p/swarm/swarm_download.hpp"

#include <boost/thread/mutex.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace p2p {

class Node {
public:
    Node(NodeConfig config, Output& output);
    ~Node();

    /// Binds the listener; with config.dht joins the DHT and starts its announcer (before any
    /// HELLO, so every one lists it); starts the listener thread, then the indexer (so a folder
    /// of huge files never delays listening); prints "Node listening on host:port", then
    /// "DHT listening on UDP port N (network 0x...)" (or why not: the node runs on without it).
    void start(std::error_code& ec);
    /// Shutdown, in this order: set the exit event, join the DHT announcer (it withdraws our
    /// values), shut down and join the DHT's threads, stop and join the indexer, wake the
    /// listener, shut down every session socket, join the sessions, join the listener, close
    /// outgoing connections. Idempotent.
    void stop();

    std::uint16_t port() const { return port_; }
    /// The id this node listens on and advertises (host canonical, the bound port).
    PeerId id() const { return {config_.host, port_}; }
    /// Its key, certificate and node id (identity.hpp).
    const Identity& identity() const { return *config_.identity; }
    const NodeConfig& config() const { return config_; }
    const FileIndex& files() const { return *index_; }

    /// The exit event: set by stop() and by SIGINT; long operations check it and give up.
    std::atomic<bool>& exit_event() { return exit_; }

    /// Probes every port of the scan range on our own host but our own port (the lab's scan).
    ScanResult scan();
    /// Probes `targets` but our own id, at most 64 at once, each within connect_timeout;
    /// results in target order.
    ScanResult scan(const std::vector<PeerId>& targets);

    /// refused: this node will not use it (why says so); refused_us: it will not take this node
    /// and said why (verdict.hpp).
    enum class ConnectResult { connected, already_connected, inactive, refused, refused_us };
    /// refused: the handshake showed another node id than the pinned one, plain bytes where TLS
    /// was pinned, or TLS failed; `why` (if given) says which.
    ConnectResult connect(const PeerId& peer, std::string* why = nullptr);
    /// The pins (pins.hpp): who proved which node id.
    Pins& pins() { return pins_; }
    /// What each peer did for us, and bans (reputation.hpp).
    Reputation& reputation() { return reputation_; }
    /// A connection of ours to `peer` for one job (a swarm source), not kept in the peer
    /// table: handshake, pin and ban checked as connect() does. Null with why (`lab`: it was a
    /// lab peer, which serves whole files only).
    std::unique_ptr<Socket> dial(const PeerId& peer, std::string& why, bool* lab = nullptr);

    /// How `get` went.
    struct GetResult {
        enum class Kind {
            swarm,        ///< a swarm download ran: see `swarm`
            no_manifest,  ///< no source had a manifest ready: `whole_file_sources` serve it whole
            no_source,    ///< no source could serve it
            interrupted   ///< quit or Ctrl-C before the download started
        } kind;
        SwarmDownload::Result swarm{SwarmDownload::Result::Kind::incomplete};
        std::shared_ptr<const Manifest> manifest;
        std::vector<PeerId> whole_file_sources;  ///< lab peers, and ours without a manifest yet
    };
    /// Downloads `name` chunk by chunk from `sources` (best first): every source is asked for
    /// its version, the one most announce is fetched (swarm_sources.hpp), with one worker per
    /// source that has it (swarm_download.hpp). `note` and `progress` are called on this thread.
    GetResult get(const std::string& name, const std::vector<PeerId>& sources, bool overwrite,
                  const std::function<void(const std::string&)>& note,
                  const std::function<void(const SwarmDownload::Progress&)>& progress);

    bool disconnect(const PeerId& peer);
    bool is_connected(const PeerId& peer) const { return peers_.contains(peer); }
    std::vector<PeerId> connected_peers() const { return peers_.peers(); }

    /// Searches one connected peer; a peer that failed is dropped from the table.
    SearchOutcome search(const PeerId& peer, const std::string& name);

    /// Downloads from a connected peer (nullopt: not connected). A peer whose stream can no
    /// longer be trusted (gone, stalled, garbled) is dropped from the table. A name that is not
    /// FileIndex::is_safe_name is refused here too (write_failed), whatever the caller checked.
    std::optional<DownloadOutcome> request(const PeerId& peer, const std::string& name,
                                           bool overwrite, const ProgressFn& progress);

    /// Every known peer (connected or not), most recently seen first; aged-out ones are
    /// forgotten first.
    std::vector<KnownPeers::Entry> known_peers();

    /// The overlay (neighbours, gossip, recursive search); null before start().
    Overlay* overlay() { return overlay_.get(); }

    /// The bandwidth limits (rate_limit.hpp), shared by every transfer in one direction; the
    /// console changes them while transfers run.
    RateLimit& upload_limit() { return upload_limit_; }
    RateLimit& download_limit() { return download_limit_; }

    /// The manifests of the shared files (indexer.hpp); null before start().
    Indexer* indexer() { return indexer_.get(); }

    /// The DHT (dht.hpp); null without --dht or when it could not start.
    Dht* dht() { return dht_.get(); }
    /// The holders of `name` the DHT names, within `timeout` (or until the exit event), not
    /// yet checked: each is a hint (ask with holds()). Our own id is left out.
    static constexpr std::size_t max_dht_candidates = 8;
    /// At most max_dht_candidates, chosen at random. `stats`: as Dht::lookup's.
    std::vector<PeerId> dht_candidates(const std::string& name, std::chrono::milliseconds timeout,
                                       Dht::LookupStats* stats = nullptr);
    /// Asks `peer` on a connection of its own (handshake, pins and bans as dial()) whether it
    /// serves `name` now.
    bool holds(const PeerId& peer, const std::string& name);

    /// Handler threads still running (tests check that none leak).
    std::size_t active_sessions() const { return sessions_.active(); }

private:
    void on_accept(Socket socket, std::uint16_t peer_port);
    /// The DHT and its announcer, before the listener runs; the line to print (a failure is
    /// not fatal: dht_ stays null).
    std::string start_dht();
    ReadLimits read_limits() { return {config_.stall_timeout, &exit_, &download_limit_}; }
    /// What our connections offer and check beyond the lab's (handshake.hpp), as now on.
    Capabilities capabilities_on();
    /// Connects and runs the handshake, checking bans and pins; `out` is the connection.
    ConnectResult open(const PeerId& peer, Socket& out, Handshake& shake, std::string* why);
    /// A peer answered: it is known from now on, and the list on disk says so.
    /// A peer we reached first-hand; `overlay`: it said it speaks the overlay.
    void remember(const PeerId& peer, bool overlay);
    /// Why `peer` may not be used now (banned), or nothing.
    std::optional<std::string> ban_refusal(const PeerId& peer) const;
    void save_known_peers();
    boost::filesystem::path known_peers_file() const { return config_.state_dir / "known_peers"; }

    NodeConfig config_;
    Output& output_;
    std::unique_ptr<FileIndex> index_;
    /// The exit event: waitable for timers (the overlay's), a flag for polling loops.
    StopEvent stop_event_;
    std::atomic<bool>& exit_ = stop_event_.flag();
    std::uint16_t port_ = 0;
    SessionRegistry sessions_;
    PeerTable peers_;
    /// Changed and saved by the console thread (connect, scan, request) and by stop().
    KnownPeers known_;
    std::unique_ptr<Trace> trace_;  ///< null without --trace
    std::unique_ptr<TlsContext> tls_;  ///< TLS with our nodes (tls.hpp), from the identity
    Pins pins_;
    Reputation reputation_;
    HandshakeSlots handshake_slots_{16};  ///< with a secret: unproven connections at most
    RateLimit upload_limit_{config_.max_upload_rate};      ///< every session's file data
    RateLimit download_limit_{config_.max_download_rate};  ///< every download's reads
    std::unique_ptr<Overlay> overlay_;
    std::unique_ptr<Listener> listener_;
    /// Its manifests kept in <state>/manifests (in memory only without a state folder).
    std::unique_ptr<Indexer> indexer_;
    std::unique_ptr<Dht> dht_;                      ///< null without --dht
    std::unique_ptr<DhtAnnouncer> dht_announcer_;  ///< keeps dht_ in step with the folder
    /// Makes stop() run once, and a concurrent second caller (a destructor, a test) wait for
    /// the first to finish instead of returning while sessions still run. Held across joins:
    /// stop() is the only user.
    boost::mutex stop_mutex_;
    bool stopped_ = false;
};

}  // namespace p2p
