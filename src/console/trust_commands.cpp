// The trust commands: `id` (this node's certificate id), `ban` / `unban` a peer, `unpin` the
// node id pinned for an address (docs/security.md).
#include "p2p/console/commands.hpp"

#include <chrono>

namespace p2p {
namespace {

void ban(ConsoleContext& ctx, const std::string& arg, const std::string& seconds_text) {
    auto peer = ctx.peer_id(arg, "Usage: ban <peer_id> [seconds]");
    if (!peer) return;
    long long seconds = 24 * 3600;
    if (!seconds_text.empty()) {
        const bool digits = seconds_text.size() <= 6 &&
                            seconds_text.find_first_not_of("0123456789") == std::string::npos;
        seconds = digits ? std::stoll(seconds_text) : 0;
        if (seconds < 1 || seconds > 24 * 3600) {
            ctx.out.line("Invalid ban time '" + seconds_text + "': seconds from 1 to 86400 are expected.");
            return;
        }
    }
    ctx.node.reputation().ban(reputation_key(ctx.node.pins(), *peer), std::chrono::seconds(seconds));
    ctx.node.disconnect(*peer);
    ctx.out.line("Banned " + peer->to_string() + " for " + std::to_string(seconds) + " s.");
}

void unban(ConsoleContext& ctx, const std::string& arg) {
    auto peer = ctx.peer_id(arg, "Usage: unban <peer_id>");
    if (!peer) return;
    // A ban may sit under its pinned node id and under its address (one made before the pin):
    // lift both, as banned_until() checks both.
    Reputation& reputation = ctx.node.reputation();
    const bool by_id = reputation.unban(reputation_key(ctx.node.pins(), *peer));
    const bool by_address = reputation.unban(peer->to_string());
    ctx.out.line(by_id || by_address ? "Unbanned " + peer->to_string() + "." : peer->to_string() + " is not banned.");
}

void unpin(ConsoleContext& ctx, const std::string& arg) {
    auto peer = ctx.peer_id(arg, "Usage: unpin <peer_id>");
    if (!peer) return;
    const auto before = ctx.node.pins().pinned(*peer);
    if (!ctx.node.pins().unpin(*peer)) {
        ctx.out.line("No node id is pinned for " + peer->to_string() + ".");
        return;
    }
    ctx.out.line("Unpinned " + peer->to_string() + " (was node id " + *before + "); the next node id it proves is pinned.");
    if (auto error = ctx.node.pins().save_error(); !error.empty()) ctx.out.line("Pins not saved: " + error + ".");
}

}  // namespace

void add_trust_commands(CommandTable& table, ConsoleContext& ctx) {
    constexpr int ours = CommandTable::ours;
    table.add({"id",
               [&ctx](const Args& a) {
                   if (!a.empty()) {
                       ctx.out.line("Usage: id");
                   } else {
                       ctx.out.line("Node id: " + ctx.node.identity().id());
                       ctx.out.line("Short id: " + ctx.node.identity().short_id());
                   }
                   return true;
               },
               {{ours + 50, "id: This node's id, the SHA-256 of its certificate (docs/security.md)."}}, nullptr});
    table.add({"ban",
               [&ctx](const Args& a) {
                   a.size() == 1 || a.size() == 2 ? ban(ctx, a[0], a.size() == 2 ? a[1] : "")
                                                  : ctx.out.line("Usage: ban <peer_id> [seconds]");
                   return true;
               },
               {{ours + 80, "ban <peer_id> [seconds]: Refuse a peer for a time (default a day)."}}, nullptr});
    table.add({"unban",
               [&ctx](const Args& a) {
                   a.size() == 1 ? unban(ctx, a[0]) : ctx.out.line("Usage: unban <peer_id>");
                   return true;
               },
               {{ours + 81, "unban <peer_id>: Lift a ban."}}, nullptr});
    table.add({"unpin",
               [&ctx](const Args& a) {
                   a.size() == 1 ? unpin(ctx, a[0]) : ctx.out.line("Usage: unpin <peer_id>");
                   return true;
               },
               {{ours + 60, "unpin: Forget the node id pinned for a peer (unpin <peer_id>), to accept its new key."}}, nullptr});
}

}  // namespace p2p
