// The DHT's command: `dht` shows its state (with --dht PORT).
#include "p2p/console/commands.hpp"

namespace p2p {
namespace {

void dht_status(ConsoleContext& ctx) {
    Dht* dht = ctx.node.dht();
    if (!dht) {
        ctx.out.line("The DHT is off (start the node with --dht PORT).");
        return;
    }
    const auto s = dht->status();
    ctx.out.line("DHT on UDP port " + std::to_string(s.port) + ", network " + format_dht_network(s.network) + ".");
    ctx.out.line("Nodes: " + std::to_string(s.good_nodes) + " good, " + std::to_string(s.dubious_nodes) + " dubious.");
    ctx.out.line("Values announced: " + std::to_string(s.announced) + ".");
    ctx.out.line("Lookups: " + std::to_string(s.lookups) + ", median " + std::to_string(s.median_ms) + " ms.");
    ctx.out.line("Requests (find, get): " + std::to_string(s.requests_sent) + " sent, " +
              std::to_string(s.requests_answered) + " answered.");
}

}  // namespace

void add_dht_commands(CommandTable& table, ConsoleContext& ctx) {
    table.add({"dht",
               [&ctx](const Args& a) {
                   a.empty() ? dht_status(ctx) : ctx.out.line("Usage: dht");
                   return true;
               },
               {{CommandTable::ours + 120, "dht: The DHT's state (with --dht PORT); search and get <filename> then ask the DHT too."}},
               nullptr});
}

}  // namespace p2p
