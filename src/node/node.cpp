#include "p2p/node/node.hpp"

#include "p2p/node/session_capabilities.hpp"
#include "p2p/node/wire_description.hpp"
#include "p2p/overlay/handshake.hpp"
#include "p2p/lab/protocol.hpp"
#include "p2p/swarm/swarm_sources.hpp"
#include "p2p/lab/trace.hpp"
#include "p2p/util/worker_thread.hpp"

#include <boost/filesystem/operations.hpp>
#include <boost/thread/lock_guard.hpp>
#include <boost/thread/thread.hpp>

#include <algorithm>
#include <cstdio>

namespace p2p {

Node::Node(NodeConfig config, Output& output)
    : config_(std::move(config)), output_(output),
      index_(std::make_unique<FileIndex>(config_.shared_dir)),
      sessions_(config_.max_sessions),
      known_(config_.known_peers_cap, config_.known_peer_max_age),
      trace_(config_.trace ? std::make_unique<Trace>(output_, describe) : nullptr),
      pins_(config_.state_dir.empty() ? boost::filesystem::path() : config_.state_dir / "pins"),
      reputation_(config_.state_dir.empty() ? boost::filesystem::path() : config_.state_dir / "reputation",
                  config_.ban_time) {
    // One spelling per host, so our own id and a peer's compare equal ("::0:1" is "::1").
    std::string ignored;
    if (auto host = parse_host(config_.host, ignored)) config_.host = *host;
}

Node::~Node() { stop(); }

void Node::start(std::error_code& ec) {
    if (!config_.identity) {
        std::string ignored;
        config_.identity = Identity::ephemeral(ignored);
        if (!config_.identity) {
            ec = std::make_error_code(std::errc::not_enough_memory);
            return;
        }
    }
    try {
        tls_ = std::make_unique<TlsContext>(*config_.identity);
    } catch (const std::runtime_error&) {
        ec = std::make_error_code(std::errc::protocol_not_supported);
        return;
    }
    Socket listening = Socket::listen(config_.host, config_.port, ec);
    if (ec) return;
    // The saved list first: the overlay adds its bootstrap peers to it.
    std::string load_note;
    if (!config_.state_dir.empty()) {
        std::string error;
        std::size_t skipped = 0;
        if (!known_.load(known_peers_file(), error, &skipped))
            load_note = "Known peers not loaded: " + error + ".";
        else if (skipped > 0)
            load_note = "Known peers: " + std::to_string(skipped) + " unreadable line(s) in " +
                        known_peers_file().string() + " skipped.";
        known_.expire();
        if (std::string pin_error; !pins_.load(pin_error))
            load_note += (load_note.empty() ? "" : " ") + ("Pins not loaded: " + pin_error + ".");
        if (std::string rep_error; !reputation_.load(rep_error))
            load_note += (load_note.empty() ? "" : " ") + ("Reputation not loaded: " + rep_error + ".");
    }
    listener_ = std::make_unique<Listener>(std::move(listening),
        [this](Socket s, std::uint16_t peer_port) { on_accept(std::move(s), peer_port); });
    port_ = listener_->port();
    // The DHT before any HELLO (the listener's sessions, the overlay's links): each lists it.
    const std::string dht_note = config_.dht ? start_dht() : "";
    // Before the listener runs: every session is handed the overlay.
    overlay_ = std::make_unique<Overlay>(config_.overlay, id(), *index_, known_, output_, stop_event_,
                                         trace_.get(), capabilities_on());
    indexer_ = std::make_unique<Indexer>(
        *index_, config_.state_dir.empty() ? boost::filesystem::path() : config_.state_dir / "manifests",
        Manifest::default_chunk_size, [this](const std::string& name, const Manifest& m, std::chrono::milliseconds took) {
            char secs[32];
            std::snprintf(secs, sizeof secs, "%.1f", took.count() / 1000.0);
            const std::string line = "Manifest of " + name + " ready: " + std::to_string(m.chunk_count()) +
                                     (m.chunk_count() == 1 ? " chunk, root " : " chunks, root ") +
                                     m.root_hex().substr(0, 16) + "... (" + secs + " s).";
            // One that took a second or more explains a busy disk: always said.
            if (took >= std::chrono::seconds(1)) output_.server_line(line);
            else output_.detail_line(line);
        });
    try {
        listener_->start();
        overlay_->start();
        indexer_->start();  // after the listener: hashing a large folder never delays listening
    } catch (const boost::thread_resource_error& e) {
        ec = std::error_code(e.code().value(), std::generic_category());
        stop();
        return;
    }
    // A console line, printed even with --quiet: with --port 0 it is how a caller learns the port.
    output_.line("Node listening on " + id().to_string());
    if (!load_note.empty()) output_.line(load_note);
    if (!dht_note.empty()) output_.line(dht_note);
}

bool Node::holds(const PeerId& peer, const std::string& name) {
    std::string why;
    auto socket = dial(peer, why);
    return socket && p2p::search(*socket, name, read_limits()) == SearchOutcome::found;
}

void Node::remember(const PeerId& peer, bool overlay) {
    known_.seen(peer, KnownPeers::Clock::now(), overlay);
    save_known_peers();
}

void Node::save_known_peers() {
    if (config_.state_dir.empty()) return;
    std::string error;
    if (!known_.save(known_peers_file(), error)) output_.line("Known peers not saved: " + error + ".");
}

std::vector<KnownPeers::Entry> Node::known_peers() {
    if (known_.expire() > 0) save_known_peers();
    return known_.list();
}

Capabilities Node::capabilities_on() {
    Capabilities on;
    on.tls = tls_.get();
    on.secret = config_.secret.get();
    on.pins = &pins_;
    on.reputation = &reputation_;
    on.dht = dht_.get();
    return on;
}

void Node::on_accept(Socket socket, std::uint16_t peer_port) {
    auto shared = std::make_shared<Socket>(std::move(socket));
    SessionCapabilities on;
    on.index = index_.get();
    on.trace = trace_.get();
    on.upload = &upload_limit_;
    on.overlay = overlay_.get();
    on.link = capabilities_on();
    if (config_.secret) on.slots = &handshake_slots_;
    on.indexer = indexer_.get();
    auto session = std::make_shared<Session>(shared, peer_port, *index_, output_, config_.session, exit_, session_extensions(on));
    auto admit = sessions_.start(shared, [session] { session->run(); });
    // Every thread taken while some are unproven (silent connections under a secret): the
    // oldest unproven one makes room, and its thread, only returning, frees a place at once.
    if (admit == SessionRegistry::Admit::full && config_.secret && handshake_slots_.evict_oldest())
        admit = sessions_.start(shared, [session] { session->run(); }, std::chrono::seconds(1));
    if (admit == SessionRegistry::Admit::started) {
        // Only an admitted connection takes a slot, evicting the oldest unproven one if need be.
        if (config_.secret) handshake_slots_.enter(shared);
        return;  // it prints its own first line
    }
    if (admit == SessionRegistry::Admit::stopping) return;
    output_.server_line(admit == SessionRegistry::Admit::full
        ? "Too many peers; refused peer " + std::to_string(peer_port) + "."
        : "No thread could be started for peer " + std::to_string(peer_port) + "; refused it.");
    shared->set_send_timeout(std::chrono::milliseconds(200));
    std::error_code ec;
    shared->write_all(protocol::busy_answer(), ec);
    if (!ec) trace(*shared, Trace::Dir::sent, protocol::busy_answer());
}

void Node::stop() {
    boost::lock_guard<boost::mutex> lock(stop_mutex_);
    if (stopped_) return;
    stopped_ = true;
    stop_event_.set();
    if (dht_announcer_) dht_announcer_->stop();  // ends its lookup at once: it polls the exit event
    if (dht_) dht_->stop();  // cancels our puts, then joins OpenDHT's threads
    if (indexer_) indexer_->stop();  // prompt: its hashing checks its own flag every 256 KiB
    if (listener_) listener_->stop();
    if (overlay_) overlay_->stop();  // its timer and links; sessions may still hand it lines
    sessions_.stop_all();
    sessions_.join_all();
    if (listener_) listener_->join();
    peers_.close_all();
    known_.expire();
    save_known_peers();
}

Node::ConnectResult Node::open(const PeerId& peer, Socket& out, Handshake& shake, std::string* why) {
    if (auto refusal = ban_refusal(peer)) {
        if (why) *why = *refusal;
        return ConnectResult::refused;
    }
    std::error_code ec;
    Socket s = Socket::connect(peer.host, peer.port, config_.connect_timeout, ec, &exit_);
    if (ec) return ConnectResult::inactive;
    s.set_trace(trace_.get(), peer.to_string());
    // Lab peers answer the probe "not found" at once; a peer that cannot answer it (a busy
    // node, something that is not a node) is no usable peer.
    shake = handshake(s, id(), {config_.probe_timeout, &exit_}, capabilities_on());
    if (shake.kind == Handshake::Kind::failed) {
        if (shake.error.empty()) return ConnectResult::inactive;
        reputation_.record(reputation_key(pins_, peer), Reputation::Event::refused_handshake);
        if (why) *why = shake.error;  // it answered as ours, then TLS, the secret or its verdict failed
        return shake.refused_us ? ConnectResult::refused_us : ConnectResult::refused;
    }
    auto refusal = pin_refusal(pins_, peer, shake.node_id);
    if (!refusal) refusal = ban_refusal(peer);  // its node id may be banned under another address
    if (refusal) {
        reputation_.record(reputation_key(pins_, peer), Reputation::Event::refused_handshake);
        if (why) *why = *refusal;
        return ConnectResult::refused;
    }
    if (shake.peer) offer_dht(dht_.get(), peer.host, shake.peer->capabilities);
    out = std::move(s);
    return ConnectResult::connected;
}

Node::ConnectResult Node::connect(const PeerId& peer, std::string* why) {
    if (peers_.contains(peer)) return ConnectResult::already_connected;
    Socket s;
    Handshake shake;
    if (auto r = open(peer, s, shake, why); r != ConnectResult::connected) return r;
    const bool ours = shake.kind == Handshake::Kind::ours;
    remember(peer, ours && has_capability(shake.peer->capabilities, overlay::capability));
    return peers_.add(peer, std::move(s), ours) ? ConnectResult::connected : ConnectResult::already_connected;
}

std::unique_ptr<Socket> Node::dial(const PeerId& peer, std::string& why, bool* lab) {
    Socket s;
    Handshake shake;
    switch (open(peer, s, shake, &why)) {
    case ConnectResult::connected: break;
    case ConnectResult::inactive: why = "is inactive"; return nullptr;
    case ConnectResult::refused_us: why = "refused us: " + why; return nullptr;
    default: why = "refused: " + why; return nullptr;
    }
    if (lab) *lab = shake.kind == Handshake::Kind::lab;
    if (shake.kind != Handshake::Kind::ours) {
        why = "is a lab peer (whole files only, no chunks)";
        return nullptr;
    }
    return std::make_unique<Socket>(std::move(s));
}

Node::GetResult Node::get(const std::string& name, const std::vector<PeerId>& sources, bool overwrite,
                          const std::function<void(const std::string&)>& note,
                          const std::function<void(const SwarmDownload::Progress&)>& progress) {
    using K = GetResult::Kind;
    GetResult out;
    SourceSurvey survey = survey_sources(
        name, sources, [this](const PeerId& peer, std::string& why, bool* lab) { return dial(peer, why, lab); },
        read_limits(), config_.swarm);
    for (const auto& line : survey.notes) note(line);
    for (const auto& peer : survey.invalid)
        reputation_.record(reputation_key(pins_, peer), Reputation::Event::invalid_answer);
    out.whole_file_sources = std::move(survey.whole_file_sources);
    if (!survey.manifest) {
        out.kind = exit_.load() ? K::interrupted : out.whole_file_sources.empty() ? K::no_source : K::no_manifest;
        return out;
    }
    out.kind = K::swarm;
    out.manifest = survey.manifest;

    SwarmDownload::Hooks hooks;
    // A bad chunk costs like an invalid answer; the last strike is bad data: a ban.
    hooks.strike = [this](const PeerId& peer) {
        reputation_.record(reputation_key(pins_, peer), Reputation::Event::invalid_answer);
    };
    hooks.struck_out = [this](const PeerId& peer) {
        reputation_.record(reputation_key(pins_, peer), Reputation::Event::sha_failure);
    };
    hooks.delivered = [this](const PeerId& peer, std::uint64_t bytes) {
        reputation_.record(reputation_key(pins_, peer), Reputation::Event::transfer, bytes);
    };
    const boost::filesystem::path resume =
        config_.state_dir.empty() ? boost::filesystem::path() : config_.state_dir / "downloads" / (name + ".chunks");
    SwarmDownload download(name, out.manifest, *index_, resume, overwrite, std::move(hooks), read_limits(), config_.swarm);
    out.swarm = download.run(std::move(survey.chosen), note, progress);
    if (out.swarm.kind == SwarmDownload::Result::Kind::saved && indexer_) indexer_->wake();
    return out;
}

bool Node::disconnect(const PeerId& peer) { return peers_.remove(peer); }

SearchOutcome Node::search(const PeerId& peer, const std::string& name) {
    auto conn = peers_.find(peer);
    if (!conn.socket) return SearchOutcome::disconnected;
    SearchOutcome r = p2p::search(*conn.socket, name, read_limits());
    if (r != SearchOutcome::found && r != SearchOutcome::not_found) peers_.remove(peer);
    return r;
}

std::optional<DownloadOutcome> Node::request(const PeerId& peer, const std::string& name,
                                             bool overwrite, const ProgressFn& progress) {
    auto conn = peers_.find(peer);
    if (!conn.socket) return std::nullopt;
    using K = DownloadOutcome::Kind;
    if (!FileIndex::is_safe_name(name)) return DownloadOutcome{K::write_failed, 0, 0, "not a plain file name"};
    // Checked before asking, so a kept file costs no transfer; receive_file checks again.
    boost::system::error_code fec;
    if (!overwrite && boost::filesystem::exists(index_->path_for(name), fec)) return DownloadOutcome{K::exists};
    DownloadOutcome r = download(*conn.socket, name, *index_, overwrite, conn.extended,
                                 read_limits(), progress);
    if (stream_lost(r.kind)) peers_.remove(peer);  // out of step or gone: never reuse it
    const std::string key = reputation_key(pins_, peer);
    switch (r.kind) {
    case K::saved:
        reputation_.record(key, Reputation::Event::transfer, r.bytes);
        if (indexer_) indexer_->wake();  // its manifest now, not at the next rescan
        break;
    case K::corrupt:  // bad data: banned, and never asked again while it lasts
        reputation_.record(key, Reputation::Event::sha_failure);
        peers_.remove(peer);
        break;
    case K::invalid_answer: reputation_.record(key, Reputation::Event::invalid_answer); break;
    case K::timeout: reputation_.record(key, Reputation::Event::stall); break;
    default: break;
    }
    return r;
}

std::optional<std::string> Node::ban_refusal(const PeerId& peer) const {
    const auto until = banned_until(reputation_, pins_, peer);
    if (!until) return std::nullopt;
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(*until - Reputation::Clock::now()).count();
    return "it is banned for " + std::to_string(std::max<long long>(left, 1)) + " s more ('unban " +
           peer.to_string() + "' lifts it)";
}

}  // namespace p2p
