// The lab's commands (quit, scan, lp, connect, disconnect, sf, request; `help` is the
// console's), worded as the lab prints them, and `limit`, which bounds every transfer.
#include "p2p/console/commands.hpp"
#include "p2p/console/progress_bar.hpp"
#include "p2p/console/scan_targets.hpp"
#include "p2p/lab/file_index.hpp"
#include "p2p/lab/protocol.hpp"
#include "p2p/net/rate_limit.hpp"
#include "p2p/util/byte_units.hpp"

#include <chrono>

namespace p2p {
namespace {

constexpr const char* connect_usage = "Usage: connect <peer_id>";
constexpr const char* disconnect_usage = "Usage: disconnect <peer_id>";
constexpr const char* sf_usage = "Usage: sf <filename>";
constexpr const char* request_usage = "Usage: request <filename> <peer_id>";
constexpr const char* scan_usage = "Usage: scan [HOSTS[:PORTS]]";
constexpr const char* limit_usage = "Usage: limit [up|down RATE]  (RATE e.g. 20M, 0 = unlimited)";

/// `scan` (the lab's range on our host) or `scan HOSTS[:PORTS]` (non-empty `targets`).
void scan(ConsoleContext& ctx, const std::string& targets) {
    std::optional<std::vector<PeerId>> ids;
    if (!targets.empty()) {
        std::string why;
        ids = parse_scan_targets(targets, ctx.node.config().host, ctx.node.config().scan_ports, why);
        if (!ids) {
            ctx.out.line("Invalid scan target '" + targets + "': " + why + ".");
            ctx.out.line(scan_usage);
            return;
        }
    }
    ctx.out.line("Discover active peers:");
    const ScanResult r = ids ? ctx.node.scan(*ids) : ctx.node.scan();
    for (const auto& [peer, active] : r.probed) {
        ctx.out.line("Scanning peer " + ctx.shown(peer) + "...");
        ctx.out.line("Peer " + ctx.shown(peer) + (active ? " is active." : " is inactive."));
    }
    // "ports" for the lab's scan (only ports vary there), "addresses" for HOSTS[:PORTS].
    const char* what = ids ? (r.not_scanned == 1 ? " address" : " addresses")
                           : (r.not_scanned == 1 ? " port" : " ports");
    if (!r.thread_error.empty())
        ctx.out.line("scan: could not start probe threads (" + r.thread_error + "); " +
                  std::to_string(r.not_scanned) + what + " not scanned.");
    else if (r.interrupted)
        ctx.out.line("Scan interrupted.");
}

void list_peers(ConsoleContext& ctx) {
    ctx.out.line("List connected peers:");
    auto peers = ctx.node.connected_peers();
    const std::string me = std::to_string(ctx.node.port());
    if (peers.empty()) {
        ctx.out.line("Node " + me + " has no connected peers.");
        return;
    }
    std::string text = "Node " + me + " has connected peers: ";
    for (const auto& p : peers) text += ctx.shown(p) + " ";
    ctx.out.line(text);
}

void connect(ConsoleContext& ctx, const std::string& arg) {
    auto peer = ctx.peer_id(arg, connect_usage);
    if (!peer) return;
    const std::string id = ctx.shown(*peer);
    ctx.out.line("Connect to peer " + id + ":");
    std::string why;
    switch (ctx.node.connect(*peer, &why)) {
    case Node::ConnectResult::connected: ctx.out.line("Peer " + id + " connected."); break;
    case Node::ConnectResult::already_connected: ctx.out.line("Peer " + id + " is already connected."); break;
    case Node::ConnectResult::inactive: ctx.out.line("Peer " + id + " is inactive."); break;
    case Node::ConnectResult::refused: ctx.out.line("Peer " + id + " refused: " + why + "."); break;
    case Node::ConnectResult::refused_us: ctx.out.line("Peer " + id + " refused us: " + why + "."); break;
    }
}

void disconnect(ConsoleContext& ctx, const std::string& arg) {
    auto peer = ctx.peer_id(arg, disconnect_usage);
    if (!peer) return;
    const std::string id = ctx.shown(*peer);
    ctx.out.line("Disconnect from peer " + id + ":");
    ctx.out.line(ctx.node.disconnect(*peer) ? "Peer " + id + " disconnected." : "Peer " + id + " is NOT connected.");
}

void search_connected(ConsoleContext& ctx, const std::string& name) {
    if (!ctx.valid_filename(name)) return;
    ctx.out.line("Search for " + name + " on all connected peers:");
    for (const auto& peer : ctx.node.connected_peers()) {
        const std::string id = ctx.shown(peer);
        switch (ctx.node.search(peer, name)) {
        case SearchOutcome::found: ctx.out.line(name + " found on " + id); break;
        case SearchOutcome::not_found: ctx.out.line(name + " not found on " + id); break;
        case SearchOutcome::disconnected: ctx.out.line("Peer " + id + " disconnected."); break;
        case SearchOutcome::busy: ctx.out.line("Peer " + id + " is busy; disconnected."); break;
        case SearchOutcome::invalid_answer:
            ctx.out.line("Peer " + id + " sent an invalid answer; disconnected."); break;
        case SearchOutcome::timeout:
            ctx.out.line("Peer " + id + " did not answer in time; disconnected."); break;
        case SearchOutcome::interrupted: ctx.out.line("Search interrupted."); return;
        }
    }
}

void limit(ConsoleContext& ctx, const std::string& direction, const std::string& rate_text) {
    if (direction.empty()) {
        ctx.out.line("Upload limit: " + format_rate(ctx.node.upload_limit().rate()) + ".");
        ctx.out.line("Download limit: " + format_rate(ctx.node.download_limit().rate()) + ".");
        return;
    }
    const bool up = direction == "up";
    if (!up && direction != "down") {
        ctx.out.line(limit_usage);
        return;
    }
    std::string why;
    const auto rate = parse_rate(rate_text, &why);
    if (!rate) {
        ctx.out.line("Invalid rate '" + rate_text + "': " + why + ".");
        ctx.out.line(limit_usage);
        return;
    }
    (up ? ctx.node.upload_limit() : ctx.node.download_limit()).set_rate(*rate);
    ctx.out.line((up ? "Upload" : "Download") + std::string(" limit set to ") + format_rate(*rate) + ".");
}

}  // namespace

bool request_file(ConsoleContext& ctx, const std::string& name, const std::string& peer_arg, bool overwrite) {
    if (!ctx.valid_filename(name)) return true;
    auto peer = ctx.peer_id(peer_arg, request_usage);
    if (!peer) return true;
    const std::string id = ctx.shown(*peer);
    ctx.out.line("Request file " + name + " from peer " + id + ":");
    // host:port asks for "from this peer, wherever it is": connect first if needed (it stays
    // connected, like `connect`). A bare port keeps the lab's meaning: a connected peer only.
    if (!parse_port(peer_arg) && !ctx.node.is_connected(*peer)) {
        std::string why;
        switch (ctx.node.connect(*peer, &why)) {
        case Node::ConnectResult::connected: ctx.out.line("Peer " + id + " connected."); break;
        case Node::ConnectResult::already_connected: break;
        case Node::ConnectResult::inactive: ctx.out.line("Peer " + id + " is inactive."); return false;
        case Node::ConnectResult::refused: ctx.out.line("Peer " + id + " refused: " + why + "."); return false;
        case Node::ConnectResult::refused_us: ctx.out.line("Peer " + id + " refused us: " + why + "."); return false;
        }
    }
    ProgressBar bar(ctx.out);
    ProgressFn progress;
    if (ctx.out.interactive()) progress = [&bar](std::uint64_t d, std::uint64_t t) { bar(d, t); };
    auto r = ctx.node.request(*peer, name, overwrite, progress);
    ctx.out.end_progress();
    if (!r) {
        ctx.out.line("Peer " + id + " is NOT connected.");
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
        ctx.out.line(name + " found on " + id + ". " + std::to_string(r->bytes) + " bytes received.");
        if (r->resumed_from)
            ctx.out.line("Resumed: the first " + std::to_string(r->resumed_from) + " bytes were already here.");
        if (r->verified) ctx.out.line("SHA-256 verified.");
        break;
    case K::not_found: ctx.out.line(name + " not found on " + id + "."); break;
    case K::refused: ctx.out.line(protocol::escape_control(r->detail) + " on " + id + "."); break;
    case K::exists:
        ctx.out.line(name + " already exists in " + ctx.node.files().dir().string() +
                  "; kept it. Use 'request -f " + name + " " + id + "' to replace it.");
        break;
    case K::disconnected:
        ctx.out.line(r->expected ? "Peer " + id + " disconnected after " + got + kept
                              : "Peer " + id + " disconnected.");
        break;
    case K::invalid_answer: ctx.out.line("Peer " + id + " sent an invalid answer; disconnected."); break;
    case K::timeout: ctx.out.line("Peer " + id + " stalled after " + got + "; disconnected" + kept); break;
    case K::interrupted: ctx.out.line("Download of " + name + " interrupted" + kept); break;
    case K::write_failed: ctx.out.line("Could not save " + name + ": " + r->detail + "; nothing saved."); break;
    case K::corrupt: {
        ctx.out.line(name + " from " + id + " failed the SHA-256 check; the data was discarded.");
        if (auto until = banned_until(ctx.node.reputation(), ctx.node.pins(), *peer)) {
            const auto left = std::chrono::duration_cast<std::chrono::seconds>(*until - Reputation::Clock::now());
            ctx.out.line("Peer " + id + " is banned for " + std::to_string(left.count()) + " s (bad data).");
        }
        break;
    }
    }
    // Done: the file is here, or nothing another source could change (a kept file, a full
    // disk, Ctrl-C). Otherwise the caller may try another holder.
    return r->kind == K::saved || r->kind == K::exists || r->kind == K::interrupted || r->kind == K::write_failed;
}

void add_lab_commands(CommandTable& table, ConsoleContext& ctx) {
    constexpr int ours = CommandTable::ours;
    auto usage = [&ctx](const char* line) { ctx.out.line(line); return true; };
    table.add({"quit", [](const Args&) { return false; }, {{80, "quit: Quit the program."}}, nullptr});
    table.add({"scan",
               [&ctx, usage](const Args& a) { return a.size() <= 1 ? (scan(ctx, a.empty() ? "" : a[0]), true) : usage(scan_usage); },
               {{20, "scan: Discover active peers. For demonstration, limit the peer_id range from 5000 to 5009."},
                {ours + 10, "scan <hosts>[:<ports>]: Probe other hosts and ports, e.g. scan 10.0.0.1-10.0.0.5:5000-5009."}},
               nullptr});
    table.add({"lp", [&ctx, usage](const Args& a) { return a.empty() ? (list_peers(ctx), true) : usage("Usage: lp"); },
               {{30, "lp: List connected peers."}}, nullptr});
    const auto first_word = [](const std::vector<std::string>& w) { return w.size() == 1; };
    table.add({"connect", [&ctx, usage](const Args& a) { return a.size() == 1 ? (connect(ctx, a[0]), true) : usage(connect_usage); },
               {{40, "connect <peer_id>: Connect to a peer."},
                {ours + 20, "connect, request and disconnect take a host too: connect 10.0.0.2:5000, connect [::1]:5001."}},
               first_word});
    table.add({"disconnect",
               [&ctx, usage](const Args& a) { return a.size() == 1 ? (disconnect(ctx, a[0]), true) : usage(disconnect_usage); },
               {{50, "disconnect <peer_id>: Disconnect from a peer."}}, first_word});
    table.add({"sf", [&ctx, usage](const Args& a) { return a.size() == 1 ? (search_connected(ctx, a[0]), true) : usage(sf_usage); },
               {{60, "sf <filename>: Search for a file on all connected peers."}}, nullptr});
    table.add({"request",
               [&ctx, usage](const Args& a) {
                   // As in the lab: a file name alone is the usage again (`get <filename>` finds holders).
                   if (a.size() == 2 && a[0] != "-f") request_file(ctx, a[0], a[1], false);
                   else if (a.size() == 3 && a[0] == "-f") request_file(ctx, a[1], a[2], true);
                   else usage(request_usage);
                   return true;
               },
               {{70, "request <filename> <peer_id>: Request a file from a peer."}},
               [](const std::vector<std::string>& w) { return w.size() == (w.size() > 1 && w[1] == "-f" ? 3u : 2u); }});
    table.add({"limit",
               [&ctx, usage](const Args& a) {
                   return a.empty() || a.size() == 2 ? (limit(ctx, a.empty() ? "" : a[0], a.empty() ? "" : a[1]), true)
                                                     : usage(limit_usage);
               },
               {{ours + 100, "limit [up|down <rate>]: Show or set the bandwidth limits, e.g. limit up 20M (0: unlimited)."}},
               nullptr});
}

}  // namespace p2p
