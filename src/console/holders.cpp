// Who has a file: the DHT's announcements (each holder asked), then a flooded search, best
// reputation score first (`get <filename>`).
#include "p2p/console/commands.hpp"

#include <algorithm>
#include <chrono>

namespace p2p {

std::vector<PeerId> find_holders(ConsoleContext& ctx, const std::string& name) {
    Overlay* overlay = ctx.node.overlay();
    if (!overlay) return {};
    std::set<PeerId> seen;
    std::vector<PeerId> holders = dht_holders(ctx, name, seen);
    auto r = overlay->search(name, overlay::default_ttl, search_wait, ctx.node.exit_event(),
                             [&](const PeerId& holder, unsigned hops) {
                                 if (!seen.insert(holder).second) return;
                                 ctx.out.line(name + " found on " + holder.to_string() + " (" +
                                           std::to_string(hops) + (hops == 1 ? " hop)" : " hops)"));
                                 holders.push_back(holder);
                             });
    if (r.interrupted) {
        ctx.out.line("Search interrupted.");
        return {};
    }
    if (holders.empty()) ctx.out.line(name + " was not found in the overlay" + (ctx.node.dht() ? " or the DHT." : "."));
    // Peers that delivered before first, strangers next, those that failed us last; a banned
    // holder's hit never arrived.
    std::stable_sort(holders.begin(), holders.end(),
                     [&](const PeerId& a, const PeerId& b) { return ctx.score(a) > ctx.score(b); });
    return holders;
}

std::vector<PeerId> dht_holders(ConsoleContext& ctx, const std::string& name, std::set<PeerId>& seen) {
    std::vector<PeerId> holders;
    if (!ctx.node.dht()) return holders;
    ctx.out.line("Search for " + name + " in the DHT:");
    const auto t0 = std::chrono::steady_clock::now();
    Dht::LookupStats lookup;
    const auto candidates = ctx.node.dht_candidates(name, dht_wait, &lookup);
    std::size_t confirmed = 0;
    // Asking takes a connection each: all of them together get the lookup's bound once more.
    const auto ask_until = std::chrono::steady_clock::now() + dht_wait;
    for (const auto& peer : candidates) {
        if (ctx.node.exit_event().load() || std::chrono::steady_clock::now() >= ask_until) break;
        // A DHT value is a hint anyone may have written, or a stale one: the holder is asked.
        if (seen.count(peer) || !ctx.node.holds(peer, name)) continue;
        seen.insert(peer);
        holders.push_back(peer);
        ++confirmed;
        ctx.out.line(name + " found on " + peer.to_string() + " (dht)");
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    ctx.out.line("DHT for " + name + ": " + std::to_string(candidates.size()) + " announced, " +
              std::to_string(confirmed) + " confirmed, " + std::to_string(ms) + " ms (lookup " +
              std::to_string(lookup.ms) + " ms, first value after " + std::to_string(lookup.first_value_ms) +
              " ms, " + std::to_string(lookup.requests) + " requests).");
    return holders;
}

}  // namespace p2p
