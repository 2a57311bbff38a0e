#include "p2p/console/console.hpp"
#include "p2p/console/progress_bar.hpp"

#include <boost/filesystem/operations.hpp>

#include "p2p/util/atomic_file.hpp"
#include "p2p/util/byte_units.hpp"

#include "p2p/lab/file_index.hpp"
#include "p2p/console/line_editor.hpp"
#include "p2p/lab/protocol.hpp"
#include "p2p/net/rate_limit.hpp"
#include "p2p/console/scan_targets.hpp"

#include <algorithm>
#include <set>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <poll.h>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace p2p {
namespace {

constexpr const char* connect_usage = "Usage: connect <peer_id>";
constexpr const char* disconnect_usage = "Usage: disconnect <peer_id>";
constexpr const char* sf_usage = "Usage: sf <filename>";
constexpr const char* request_usage = "Usage: request <filename> <peer_id>";
constexpr const char* search_usage = "Usage: search <filename> [ttl]   (ttl 1 to 15, default 7)";
// How long `search` waits for hits (Ctrl-C ends it at once).
constexpr std::chrono::milliseconds search_wait{3000};
// How long a DHT lookup may take (it usually ends sooner: when OpenDHT says it is done).
constexpr std::chrono::milliseconds dht_wait{5000};
constexpr const char* scan_usage = "Usage: scan [HOSTS[:PORTS]]";
constexpr const char* limit_usage = "Usage: limit [up|down RATE]  (RATE e.g. 20M, 0 = unlimited)";

std::vector<std::string> split(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    return words;
}

}  // namespace

Console::Console(Node& node, Output& output, int input_fd, int wake_fd)
    : node_(node), out_(output), input_fd_(input_fd), wake_fd_(wake_fd) {}

Console::~Console() {
    if (editor_) out_.hand_prompt_to(-1);  // before the editor closes the doorbell
}

const std::vector<std::string>& Console::usage() {
    static const std::vector<std::string> lines = {
        "help / ?: Show usage of all commands.",
        "scan: Discover active peers. For demonstration, limit the peer_id range from 5000 to 5009.",
        "lp: List connected peers.",
        "connect <peer_id>: Connect to a peer.",
        "disconnect <peer_id>: Disconnect from a peer.",
        "sf <filename>: Search for a file on all connected peers.",
        "request <filename> <peer_id>: Request a file from a peer.",
        "quit: Quit the program.",
        // The lab's eight lines above, unchanged; ours follow, with no ">:" in them: scripts
        // and tests take that for the prompt once "quit: Quit the program." has passed.
        "Beyond the lab (README.md, docs/overlay.md):",
        "scan <hosts>[:<ports>]: Probe other hosts and ports, e.g. scan 10.0.0.1-10.0.0.5:5000-5009.",
        "connect, request and disconnect take a host too: connect 10.0.0.2:5000, connect [::1]:5001.",
        "search <filename> [ttl]: Search the overlay hop by hop (ttl 1 to 15, default 7).",
        "peers: List known peers: connected, neighbour, last seen.",
        "id: This node's id, the SHA-256 of its certificate (docs/security.md).",
        "unpin: Forget the node id pinned for a peer (unpin <peer_id>), to accept its new key.",
        "request with a file name only searches the overlay and asks the best-scored holder first.",
        "ban, unban: Refuse a peer for a time, or lift that (ban <peer_id> [seconds]; default a day).",
        "topology [file]: The overlay this node knows, as Graphviz DOT.",
        "limit [up|down <rate>]: Show or set the bandwidth limits, e.g. limit up 20M (0: unlimited).",
        "get <filename> [peer_id ...]: Download in verified chunks from every holder at once (docs/swarm.md).",
        "dht: The DHT's state (with --dht PORT); search and request <filename> then ask the DHT too.",
    };
    return lines;
}

void Console::print_usage() {
    out_.line("");
    for (const auto& l : usage()) out_.line(l);
    out_.line("");
}

void Console::run() {
    // A terminal on both sides: lines are edited, recalled and completed (docs/architecture.md).
    if (::isatty(input_fd_) == 1 && out_.interactive()) {
        const auto& state = node_.config().state_dir;
        try {
            editor_ = std::make_unique<LineEditor>(
                input_fd_, state.empty() ? state : state / "history",
                [this](const std::string& before, const std::string& word) { return completions(before, word); });
            out_.hand_prompt_to(editor_->doorbell_write_fd());
        } catch (const std::exception&) {
            editor_.reset();  // no pipe: plain reading, as from a pipe
        }
    }
    print_usage();
    std::string line;
    do {
        out_.prompt();
        if (!read_line(line)) break;
    } while (execute(line));
    if (editor_) {
        const bool mid_line = editor_->editing();
        out_.hand_prompt_to(-1);
        editor_.reset();  // the terminal's own mode back, the history saved
        if (mid_line) out_.line("");  // Ctrl-C at the prompt: the exit line on a line of its own
    }
}

std::vector<std::string> Console::completions(const std::string& before_word, const std::string& word) {
    // Every command dispatch() knows.
    static const std::vector<std::string> commands = {
        "connect", "dht", "disconnect", "get", "help", "id", "lp", "peers", "unpin", "ban", "unban", "quit", "request", "scan", "search", "sf",
        "topology", "limit"};
    auto starts = [&word](const std::string& s) { return s.compare(0, word.size(), word) == 0; };
    const auto w = split(before_word);
    std::vector<std::string> out;
    if (w.empty()) {
        std::copy_if(commands.begin(), commands.end(), std::back_inserter(out), starts);
        return out;
    }
    const bool peer_goes_here = ((w[0] == "connect" || w[0] == "disconnect") && w.size() == 1) ||
                                (w[0] == "request" && w.size() == (w.size() > 1 && w[1] == "-f" ? 3u : 2u));
    if (!peer_goes_here) return out;
    std::vector<PeerId> peers = node_.connected_peers();
    for (const auto& e : node_.known_peers()) peers.push_back(e.id);
    std::set<std::string> ids;
    for (const auto& p : peers) {
        // As the console shows it (a bare port on our host), or host:port if that is what is typed.
        if (starts(shown(p))) ids.insert(shown(p));
        else if (starts(p.to_string())) ids.insert(p.to_string());
    }
    out.assign(ids.begin(), ids.end());
    return out;
}

bool Console::read_edited_line(std::string& line) {
    for (;;) {
        // The doorbell (the writer reached the prompt, or printed over the line), the terminal
        // while a line is edited, and the signal pipe; a negative descriptor is not polled.
        pollfd fds[3] = {{editor_->doorbell_fd(), POLLIN, 0},
                         {editor_->editing() ? input_fd_ : -1, POLLIN, 0},
                         {wake_fd_, POLLIN, 0}};
        if (::poll(fds, 3, -1) < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        if (fds[2].revents) return false;
        if (fds[0].revents) {
            editor_->drain_doorbell();
            if (out_.take_prompt_due()) editor_->show_prompt(">:");
            else editor_->redisplay();
        }
        if (fds[1].revents & POLLIN) {
            switch (editor_->feed(line)) {
            case LineEditor::Fed::line: return true;
            case LineEditor::Fed::end: return false;
            case LineEditor::Fed::more: break;
            }
        } else if (fds[1].revents) {
            return false;  // the terminal is gone
        }
    }
}

bool Console::read_line(std::string& line) {
    if (editor_) return read_edited_line(line);
    for (;;) {
        auto nl = pending_.find('\n');
        if (nl != std::string::npos) {
            line = pending_.substr(0, nl);
            pending_.erase(0, nl + 1);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            return true;
        }
        if (eof_) {  // a last line without '\n' still counts
            if (pending_.empty()) return false;
            line.swap(pending_);
            pending_.clear();
            return true;
        }
        pollfd fds[2] = {{input_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
        int n = ::poll(fds, wake_fd_ >= 0 ? 2 : 1, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        if (wake_fd_ >= 0 && fds[1].revents) return false;
        char buf[4096];
        ssize_t got = ::read(input_fd_, buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) eof_ = true;
        else pending_.append(buf, static_cast<std::size_t>(got));
    }
}

bool Console::execute(const std::string& line) {
    try {
        return dispatch(line);
    } catch (const std::exception& e) {
        // e.g. no thread could be started: report it and keep the console (and the node) alive.
        out_.line(std::string("Command failed: ") + e.what());
        return true;
    }
}

bool Console::dispatch(const std::string& line) {
    auto w = split(line);
    const std::string cmd = w.empty() ? "" : w[0];
    const std::size_t args = w.empty() ? 0 : w.size() - 1;
    if (cmd.empty() || cmd == "help" || cmd == "?") {
        print_usage();
    } else if (cmd == "quit") {
        return false;
    } else if (cmd == "scan") {
        args <= 1 ? scan(args ? w[1] : "") : out_.line(scan_usage);
    } else if (cmd == "lp") {
        args == 0 ? list_peers() : out_.line("Usage: lp");
    } else if (cmd == "id") {
        if (args != 0) {
            out_.line("Usage: id");
        } else {
            out_.line("Node id: " + node_.identity().id());
            out_.line("Short id: " + node_.identity().short_id());
        }
    } else if (cmd == "ban") {
        args == 1 || args == 2 ? ban(w[1], args == 2 ? w[2] : "") : out_.line("Usage: ban <peer_id> [seconds]");
    } else if (cmd == "unban") {
        args == 1 ? unban(w[1]) : out_.line("Usage: unban <peer_id>");
    } else if (cmd == "unpin") {
        args == 1 ? unpin(w[1]) : out_.line("Usage: unpin <peer_id>");
    } else if (cmd == "peers") {
        args == 0 ? list_known_peers() : out_.line("Usage: peers");
    } else if (cmd == "dht") {
        args == 0 ? dht_status() : out_.line("Usage: dht");
    } else if (cmd == "search") {
        args == 1 || args == 2 ? flood_search(w[1], args == 2 ? w[2] : "") : out_.line(search_usage);
    } else if (cmd == "topology") {
        args <= 1 ? topology(args == 1 ? w[1] : "") : out_.line("Usage: topology [FILE]");
    } else if (cmd == "limit") {
        args == 0 || args == 2 ? limit(args ? w[1] : "", args ? w[2] : "") : out_.line(limit_usage);
    } else if (cmd == "connect") {
        args == 1 ? connect(w[1]) : out_.line(connect_usage);
    } else if (cmd == "disconnect") {
        args == 1 ? disconnect(w[1]) : out_.line(disconnect_usage);
    } else if (cmd == "sf") {
        args == 1 ? search(w[1]) : out_.line(sf_usage);
    } else if (cmd == "get") {
        get(std::vector<std::string>(w.begin() + 1, w.end()));
    } else if (cmd == "request") {
        if (args == 1 && w[1] != "-f") request_from_overlay(w[1]);
        else if (args == 2 && w[1] != "-f") request(w[1], w[2], false);
        else if (args == 3 && w[1] == "-f") request(w[2], w[3], true);
        else out_.line(request_usage);
    } else {
        out_.line("Unknown command.");
    }
    return true;
}

std::optional<PeerId> Console::peer_id(const std::string& arg, const std::string& usage_line) {
    std::string why;
    auto peer = parse_peer_id(arg, node_.config().host, why);
    if (!peer) {
        out_.line("Invalid peer_id '" + arg + "': " + why + ".");
        out_.line(usage_line);
    }
    return peer;
}

bool Console::valid_filename(const std::string& name) {
    if (FileIndex::is_safe_name(name)) return true;
    out_.line("Invalid filename '" + name + "': a plain file name is expected (no '/', '\\', "
              "'..', control characters or '" + std::string(FileIndex::partial_suffix) +
              "' ending, at most 255 bytes).");
    return false;
}

void Console::scan(const std::string& targets) {
    std::optional<std::vector<PeerId>> ids;
    if (!targets.empty()) {
        std::string why;
        ids = parse_scan_targets(targets, node_.config().host,
                                 {node_.config().scan_low, node_.config().scan_high}, why);
        if (!ids) {
            out_.line("Invalid scan target '" + targets + "': " + why + ".");
            out_.line(scan_usage);
            return;
        }
    }
    out_.line("Discover active peers:");
    const ScanResult r = ids ? node_.scan(*ids) : node_.scan();
    for (const auto& [peer, active] : r.probed) {
        out_.line("Scanning peer " + shown(peer) + "...");
        out_.line("Peer " + shown(peer) + (active ? " is active." : " is inactive."));
    }
    // "ports" for the lab's scan (only ports vary there), "addresses" for HOSTS[:PORTS].
    const char* what = ids ? (r.not_scanned == 1 ? " address" : " addresses")
                           : (r.not_scanned == 1 ? " port" : " ports");
    if (!r.thread_error.empty())
        out_.line("scan: could not start probe threads (" + r.thread_error + "); " +
                  std::to_string(r.not_scanned) + what + " not scanned.");
    else if (r.interrupted)
        out_.line("Scan interrupted.");
}

void Console::list_known_peers() {
    const auto known = node_.known_peers();
    if (known.empty()) {
        out_.line("No known peers.");
        return;
    }
    out_.line("Known peers (" + std::to_string(known.size()) + "):");
    const auto now = KnownPeers::Clock::now();
    for (const auto& e : known) {
        const auto ago = std::chrono::duration_cast<std::chrono::seconds>(now - e.last_seen).count();
        const bool neighbour = node_.overlay() && node_.overlay()->is_neighbour(e.id);
        const auto pinned = node_.pins().pinned(e.id);
        const auto record = node_.reputation().find(pinned ? *pinned : e.id.to_string());
        out_.line(e.id.to_string() + (node_.is_connected(e.id) ? "  connected" : "  -") +
                  (neighbour ? "  neighbour" : "  -") +
                  "  last seen " + std::to_string(std::max<long long>(ago, 0)) + " s ago" +
                  (pinned ? "  id " + pinned->substr(0, 7) : "") +
                  (record ? "  score " + std::to_string(record->score()) : "") +
                  (is_banned(node_.reputation(), node_.pins(), e.id) ? "  banned" : ""));
    }
}

void Console::flood_search(const std::string& name, const std::string& ttl_text) {
    if (!valid_filename(name)) return;
    unsigned ttl = overlay::default_ttl;
    if (!ttl_text.empty()) {
        auto t = parse_port(ttl_text);  // digits only, no sign
        if (!t || *t > overlay::max_ttl) {
            out_.line("Invalid ttl '" + ttl_text + "': a number from 1 to 15 is expected.");
            out_.line(search_usage);
            return;
        }
        ttl = *t;
    }
    Overlay* overlay = node_.overlay();
    if (!overlay) return;
    std::set<PeerId> shown_holders;  // each holder printed once across the DHT and the flood
    dht_holders(name, shown_holders);
    out_.line("Search for " + name + " in the overlay (ttl " + std::to_string(ttl) + "):");
    auto r = overlay->search(name, ttl, search_wait, node_.exit_event(),
                             [&](const PeerId& holder, unsigned hops) {
                                 if (!shown_holders.insert(holder).second) return;
                                 out_.line(name + " found on " + holder.to_string() + " (" +
                                           std::to_string(hops) + (hops == 1 ? " hop)" : " hops)"));
                             });
    if (r.interrupted) out_.line("Search interrupted.");
    // The first hit's time is the flood's answer time (its holder may have been shown by the
    // DHT already, and so not again above).
    out_.line("Search for " + name + ": " + std::to_string(r.hits) + (r.hits == 1 ? " hit, " : " hits, ") +
              std::to_string(r.messages) + " messages, " + std::to_string(r.took.count()) + " ms" +
              (r.first_hit.count() >= 0 ? " (first hit after " + std::to_string(r.first_hit.count()) + " ms)." : "."));
}

std::vector<PeerId> Console::find_holders(const std::string& name) {
    Overlay* overlay = node_.overlay();
    if (!overlay) return {};
    std::set<PeerId> seen;
    std::vector<PeerId> holders = dht_holders(name, seen);
    auto r = overlay->search(name, overlay::default_ttl, search_wait, node_.exit_event(),
                             [&](const PeerId& holder, unsigned hops) {
                                 if (!seen.insert(holder).second) return;
                                 out_.line(name + " found on " + holder.to_string() + " (" +
                                           std::to_string(hops) + (hops == 1 ? " hop)" : " hops)"));
                                 holders.push_back(holder);
                             });
    if (r.interrupted) {
        out_.line("Search interrupted.");
        return {};
    }
    if (holders.empty()) out_.line(name + " was not found in the overlay" + (node_.dht() ? " or the DHT." : "."));
    // Peers that delivered before first, strangers next, those that failed us last; a banned
    // holder's hit never arrived.
    std::stable_sort(holders.begin(), holders.end(),
                     [&](const PeerId& a, const PeerId& b) { return score(a) > score(b); });
    return holders;
}

std::vector<PeerId> Console::dht_holders(const std::string& name, std::set<PeerId>& seen) {
    std::vector<PeerId> holders;
    if (!node_.dht()) return holders;
    out_.line("Search for " + name + " in the DHT:");
    const auto t0 = std::chrono::steady_clock::now();
    Dht::LookupStats lookup;
    const auto candidates = node_.dht_candidates(name, dht_wait, &lookup);
    std::size_t confirmed = 0;
    // Asking takes a connection each: all of them together get the lookup's bound once more.
    const auto ask_until = std::chrono::steady_clock::now() + dht_wait;
    for (const auto& peer : candidates) {
        if (node_.exit_event().load() || std::chrono::steady_clock::now() >= ask_until) break;
        // A DHT value is a hint anyone may have written, or a stale one: the holder is asked.
        if (seen.count(peer) || !node_.holds(peer, name)) continue;
        seen.insert(peer);
        holders.push_back(peer);
        ++confirmed;
        out_.line(name + " found on " + peer.to_string() + " (dht)");
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    out_.line("DHT for " + name + ": " + std::to_string(candidates.size()) + " announced, " +
              std::to_string(confirmed) + " confirmed, " + std::to_string(ms) + " ms (lookup " +
              std::to_string(lookup.ms) + " ms, first value after " + std::to_string(lookup.first_value_ms) +
              " ms, " + std::to_string(lookup.requests) + " requests).");
    return holders;
}

void Console::dht_status() {
    Dht* dht = node_.dht();
    if (!dht) {
        out_.line("The DHT is off (start the node with --dht PORT).");
        return;
    }
    const auto s = dht->status();
    out_.line("DHT on UDP port " + std::to_string(s.port) + ", network " + format_dht_network(s.network) + ".");
    out_.line("Nodes: " + std::to_string(s.good_nodes) + " good, " + std::to_string(s.dubious_nodes) + " dubious.");
    out_.line("Values announced: " + std::to_string(s.announced) + ".");
    out_.line("Lookups: " + std::to_string(s.lookups) + ", median " + std::to_string(s.median_ms) + " ms.");
    out_.line("Requests (find, get): " + std::to_string(s.requests_sent) + " sent, " +
              std::to_string(s.requests_answered) + " answered.");
}

long long Console::score(const PeerId& peer) {
    auto rec = node_.reputation().find(reputation_key(node_.pins(), peer));
    return rec ? rec->score() : 0LL;
}

void Console::request_from_overlay(const std::string& name) {
    if (!valid_filename(name) || !node_.overlay()) return;
    out_.line("Request file " + name + " from the overlay: searching (ttl " + std::to_string(overlay::default_ttl) + "):");
    const auto holders = find_holders(name);
    if (holders.empty()) return;
    for (const auto& holder : holders) {
        out_.line("Trying " + holder.to_string() + " (score " + std::to_string(score(holder)) + ").");
        if (request(name, holder.to_string(), false)) return;
        if (node_.exit_event().load()) return;
    }
    out_.line("No holder of " + name + " could deliver it.");
}

void Console::topology(const std::string& file) {
    Overlay* overlay = node_.overlay();
    if (!overlay) return;
    const std::string dot = overlay->topology_dot();
    if (file.empty()) {
        std::istringstream lines(dot);
        for (std::string l; std::getline(lines, l);) out_.line(l);
        return;
    }
    std::string error;
    if (!write_atomically(file, dot, 0644, error)) {
        out_.line("Could not write " + file + ": " + error + ".");
        return;
    }
    out_.line("Topology written to " + file + " (render: dot -Tpng " + file + " -o overlay.png).");
}

void Console::limit(const std::string& direction, const std::string& rate_text) {
    if (direction.empty()) {
        out_.line("Upload limit: " + format_rate(node_.upload_limit().rate()) + ".");
        out_.line("Download limit: " + format_rate(node_.download_limit().rate()) + ".");
        return;
    }
    const bool up = direction == "up";
    if (!up && direction != "down") {
        out_.line(limit_usage);
        return;
    }
    std::string why;
    const auto rate = parse_rate(rate_text, &why);
    if (!rate) {
        out_.line("Invalid rate '" + rate_text + "': " + why + ".");
        out_.line(limit_usage);
        return;
    }
    (up ? node_.upload_limit() : node_.download_limit()).set_rate(*rate);
    out_.line((up ? "Upload" : "Download") + std::string(" limit set to ") + format_rate(*rate) + ".");
}

void Console::list_peers() {
    out_.line("List connected peers:");
    auto peers = node_.connected_peers();
    const std::string me = std::to_string(node_.port());
    if (peers.empty()) {
        out_.line("Node " + me + " has no connected peers.");
        return;
    }
    std::string text = "Node " + me + " has connected peers: ";
    for (const auto& p : peers) text += shown(p) + " ";
    out_.line(text);
}

void Console::connect(const std::string& arg) {
    auto peer = peer_id(arg, connect_usage);
    if (!peer) return;
    const std::string id = shown(*peer);
    out_.line("Connect to peer " + id + ":");
    std::string why;
    switch (node_.connect(*peer, &why)) {
    case Node::ConnectResult::connected: out_.line("Peer " + id + " connected."); break;
    case Node::ConnectResult::already_connected: out_.line("Peer " + id + " is already connected."); break;
    case Node::ConnectResult::inactive: out_.line("Peer " + id + " is inactive."); break;
    case Node::ConnectResult::refused: out_.line("Peer " + id + " refused: " + why + "."); break;
    }
}

void Console::ban(const std::string& arg, const std::string& seconds_text) {
    auto peer = peer_id(arg, "Usage: ban <peer_id> [seconds]");
    if (!peer) return;
    long long seconds = 24 * 3600;
    if (!seconds_text.empty()) {
        const bool digits = seconds_text.size() <= 6 &&
                            seconds_text.find_first_not_of("0123456789") == std::string::npos;
        seconds = digits ? std::stoll(seconds_text) : 0;
        if (seconds < 1 || seconds > 24 * 3600) {
            out_.line("Invalid ban time '" + seconds_text + "': seconds from 1 to 86400 are expected.");
            return;
        }
    }
    node_.reputation().ban(reputation_key(node_.pins(), *peer), std::chrono::seconds(seconds));
    node_.disconnect(*peer);
    out_.line("Banned " + peer->to_string() + " for " + std::to_string(seconds) + " s.");
}

void Console::unban(const std::string& arg) {
    auto peer = peer_id(arg, "Usage: unban <peer_id>");
    if (!peer) return;
    out_.line(node_.reputation().unban(reputation_key(node_.pins(), *peer))
                  ? "Unbanned " + peer->to_string() + "."
                  : peer->to_string() + " is not banned.");
}

void Console::unpin(const std::string& arg) {
    auto peer = peer_id(arg, "Usage: unpin <peer_id>");
    if (!peer) return;
    const auto before = node_.pins().pinned(*peer);
    if (!node_.pins().unpin(*peer)) {
        out_.line("No node id is pinned for " + peer->to_string() + ".");
        return;
    }
    out_.line("Unpinned " + peer->to_string() + " (was node id " + *before + "); the next node id it proves is pinned.");
    if (auto error = node_.pins().save_error(); !error.empty()) out_.line("Pins not saved: " + error + ".");
}

void Console::disconnect(const std::string& arg) {
    auto peer = peer_id(arg, disconnect_usage);
    if (!peer) return;
    const std::string id = shown(*peer);
    out_.line("Disconnect from peer " + id + ":");
    out_.line(node_.disconnect(*peer) ? "Peer " + id + " disconnected." : "Peer " + id + " is NOT connected.");
}

void Console::search(const std::string& name) {
    if (!valid_filename(name)) return;
    out_.line("Search for " + name + " on all connected peers:");
    for (const auto& peer : node_.connected_peers()) {
        const std::string id = shown(peer);
        switch (node_.search(peer, name)) {
        case SearchOutcome::found: out_.line(name + " found on " + id); break;
        case SearchOutcome::not_found: out_.line(name + " not found on " + id); break;
        case SearchOutcome::disconnected: out_.line("Peer " + id + " disconnected."); break;
        case SearchOutcome::invalid_answer:
            out_.line("Peer " + id + " sent an invalid answer; disconnected."); break;
        case SearchOutcome::timeout:
            out_.line("Peer " + id + " did not answer in time; disconnected."); break;
        case SearchOutcome::interrupted: out_.line("Search interrupted."); return;
        }
    }
}

bool Console::request(const std::string& name, const std::string& peer_arg, bool overwrite) {
    if (!valid_filename(name)) return true;
    auto peer = peer_id(peer_arg, request_usage);
    if (!peer) return true;
    const std::string id = shown(*peer);
    out_.line("Request file " + name + " from peer " + id + ":");
    // host:port asks for "from this peer, wherever it is": connect first if needed (it stays
    // connected, like `connect`). A bare port keeps the lab's meaning: a connected peer only.
    if (!parse_port(peer_arg) && !node_.is_connected(*peer)) {
        std::string why;
        switch (node_.connect(*peer, &why)) {
        case Node::ConnectResult::connected: out_.line("Peer " + id + " connected."); break;
        case Node::ConnectResult::already_connected: break;
        case Node::ConnectResult::inactive: out_.line("Peer " + id + " is inactive."); return false;
        case Node::ConnectResult::refused: out_.line("Peer " + id + " refused: " + why + "."); return false;
        }
    }
    ProgressBar bar(out_);
    ProgressFn progress;
    if (out_.interactive()) progress = [&bar](std::uint64_t d, std::uint64_t t) { bar(d, t); };
    auto r = node_.request(*peer, name, overwrite, progress);
    out_.end_progress();
    if (!r) {
        out_.line("Peer " + id + " is NOT connected.");
        return true;
    }
    using K = DownloadOutcome::Kind;
    const std::string got = std::to_string(r->bytes) + " of " + std::to_string(r->expected) + " bytes";
    const std::string kept = r->partial_kept
        ? "; " + std::to_string(r->resumed_from + r->bytes) + " bytes kept in " + name +
              std::string(FileIndex::partial_suffix) + ", request again to resume."
        : "; nothing saved.";
    switch (r->kind) {
    case K::saved:
        out_.line(name + " found on " + id + ". " + std::to_string(r->bytes) + " bytes received.");
        if (r->resumed_from)
            out_.line("Resumed: the first " + std::to_string(r->resumed_from) + " bytes were already here.");
        if (r->verified) out_.line("SHA-256 verified.");
        break;
    case K::not_found: out_.line(name + " not found on " + id + "."); break;
    case K::refused: out_.line(protocol::escape_control(r->detail) + " on " + id + "."); break;
    case K::exists:
        out_.line(name + " already exists in " + node_.files().dir().string() +
                  "; kept it. Use 'request -f " + name + " " + id + "' to replace it.");
        break;
    case K::disconnected:
        out_.line(r->expected ? "Peer " + id + " disconnected after " + got + kept
                              : "Peer " + id + " disconnected.");
        break;
    case K::invalid_answer: out_.line("Peer " + id + " sent an invalid answer; disconnected."); break;
    case K::timeout: out_.line("Peer " + id + " stalled after " + got + "; disconnected" + kept); break;
    case K::interrupted: out_.line("Download of " + name + " interrupted" + kept); break;
    case K::write_failed: out_.line("Could not save " + name + ": " + r->detail + "; nothing saved."); break;
    case K::corrupt: {
        out_.line(name + " from " + id + " failed the SHA-256 check; the data was discarded.");
        if (auto until = banned_until(node_.reputation(), node_.pins(), *peer)) {
            const auto left = std::chrono::duration_cast<std::chrono::seconds>(*until - Reputation::Clock::now());
            out_.line("Peer " + id + " is banned for " + std::to_string(left.count()) + " s (bad data).");
        }
        break;
    }
    }
    // Done: the file is here, or nothing another source could change (a kept file, a full
    // disk, Ctrl-C). Otherwise the caller may try another holder.
    return r->kind == K::saved || r->kind == K::exists || r->kind == K::interrupted || r->kind == K::write_failed;
}

}  // namespace p2p
