// The overlay's commands: `search` floods a query (and asks the DHT first, when it runs),
// `peers` lists the known peers, `topology` prints the overlay as Graphviz DOT.
#include "p2p/console/commands.hpp"
#include "p2p/util/atomic_file.hpp"

#include <algorithm>
#include <chrono>
#include <sstream>

namespace p2p {
namespace {

constexpr const char* search_usage = "Usage: search <filename> [ttl]   (ttl 1 to 15, default 7)";

/// `search F [ttl]`: floods a query through the overlay, prints each holder once.
void flood_search(ConsoleContext& ctx, const std::string& name, const std::string& ttl_text) {
    if (!ctx.valid_filename(name)) return;
    unsigned ttl = overlay::default_ttl;
    if (!ttl_text.empty()) {
        auto t = parse_port(ttl_text);  // digits only, no sign
        if (!t || *t > overlay::max_ttl) {
            ctx.out.line("Invalid ttl '" + ttl_text + "': a number from 1 to 15 is expected.");
            ctx.out.line(search_usage);
            return;
        }
        ttl = *t;
    }
    Overlay* overlay = ctx.node.overlay();
    if (!overlay) return;
    std::set<PeerId> shown_holders;  // each holder printed once across the DHT and the flood
    dht_holders(ctx, name, shown_holders);
    ctx.out.line("Search for " + name + " in the overlay (ttl " + std::to_string(ttl) + "):");
    auto r = overlay->search(name, ttl, search_wait, ctx.node.exit_event(),
                             [&](const PeerId& holder, unsigned hops) {
                                 if (!shown_holders.insert(holder).second) return;
                                 ctx.out.line(name + " found on " + holder.to_string() + " (" +
                                           std::to_string(hops) + (hops == 1 ? " hop)" : " hops)"));
                             });
    if (r.interrupted) ctx.out.line("Search interrupted.");
    // The first hit's time is the flood's answer time (its holder may have been shown by the
    // DHT already, and so not again above).
    ctx.out.line("Search for " + name + ": " + std::to_string(r.hits) + (r.hits == 1 ? " hit, " : " hits, ") +
              std::to_string(r.messages) + " messages, " + std::to_string(r.took.count()) + " ms" +
              (r.first_hit.count() >= 0 ? " (first hit after " + std::to_string(r.first_hit.count()) + " ms)." : "."));
}

void list_known_peers(ConsoleContext& ctx) {
    const auto known = ctx.node.known_peers();
    if (known.empty()) {
        ctx.out.line("No known peers.");
        return;
    }
    ctx.out.line("Known peers (" + std::to_string(known.size()) + "):");
    const auto now = KnownPeers::Clock::now();
    for (const auto& e : known) {
        const auto ago = std::chrono::duration_cast<std::chrono::seconds>(now - e.last_seen).count();
        const bool neighbour = ctx.node.overlay() && ctx.node.overlay()->is_neighbour(e.id);
        const auto refused = ctx.node.overlay() ? ctx.node.overlay()->refused_for(e.id) : std::nullopt;
        const auto pinned = ctx.node.pins().pinned(e.id);
        const auto record = ctx.node.reputation().find(pinned ? *pinned : e.id.to_string());
        ctx.out.line(e.id.to_string() + (ctx.node.is_connected(e.id) ? "  connected" : "  -") +
                  (neighbour ? "  neighbour" : "  -") +
                  "  last seen " + std::to_string(std::max<long long>(ago, 0)) + " s ago" +
                  (pinned ? "  id " + pinned->substr(0, 7) : "") +
                  (record ? "  score " + std::to_string(record->score()) : "") +
                  (is_banned(ctx.node.reputation(), ctx.node.pins(), e.id) ? "  banned" : "") +
                  (refused ? "  refused, next link try in " + std::to_string(refused->count()) + " s" : ""));
    }
}

void topology(ConsoleContext& ctx, const std::string& file) {
    Overlay* overlay = ctx.node.overlay();
    if (!overlay) return;
    const std::string dot = overlay->topology_dot();
    if (file.empty()) {
        std::istringstream lines(dot);
        for (std::string l; std::getline(lines, l);) ctx.out.line(l);
        return;
    }
    std::string error;
    if (!write_atomically(file, dot, 0644, error)) {
        ctx.out.line("Could not write " + file + ": " + error + ".");
        return;
    }
    ctx.out.line("Topology written to " + file + " (render: dot -Tpng " + file + " -o overlay.png).");
}

}  // namespace

void add_overlay_commands(CommandTable& table, ConsoleContext& ctx) {
    constexpr int ours = CommandTable::ours;
    table.add({"search",
               [&ctx](const Args& a) {
                   if (a.size() == 1 || a.size() == 2) flood_search(ctx, a[0], a.size() == 2 ? a[1] : "");
                   else ctx.out.line(search_usage);
                   return true;
               },
               {{ours + 30, "search <filename> [ttl]: Search the overlay hop by hop (ttl 1 to 15, default 7)."}}, nullptr});
    table.add({"peers",
               [&ctx](const Args& a) {
                   a.empty() ? list_known_peers(ctx) : ctx.out.line("Usage: peers");
                   return true;
               },
               {{ours + 40, "peers: List known peers: connected, neighbour, last seen."}}, nullptr});
    table.add({"topology",
               [&ctx](const Args& a) {
                   a.size() <= 1 ? topology(ctx, a.empty() ? "" : a[0]) : ctx.out.line("Usage: topology [FILE]");
                   return true;
               },
               {{ours + 90, "topology [file]: The overlay this node knows, as Graphviz DOT."}}, nullptr});
}

}  // namespace p2p
