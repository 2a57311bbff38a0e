// The console's groups of commands, one file each, and what they share: the node, the output,
// and the checks every command makes of its arguments. Each add_*_commands() registers its
// group in the table (command_table.hpp); console.cpp calls them in one place.
#pragma once

#include "p2p/console/command_table.hpp"
#include "p2p/net/peer_id.hpp"
#include "p2p/node/node.hpp"
#include "p2p/util/output.hpp"

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace p2p {

/// How long `search` waits for hits (Ctrl-C ends it at once).
constexpr std::chrono::milliseconds search_wait{3000};
/// How long a DHT lookup may take (it usually ends sooner: when OpenDHT says it is done).
constexpr std::chrono::milliseconds dht_wait{5000};

/// What every command uses.
struct ConsoleContext {
    Node& node;
    Output& out;

    /// Parses a peer id (a bare port is on our host), printing why it is not one.
    std::optional<PeerId> peer_id(const std::string& arg, const std::string& usage_line) const;
    /// A peer as the lab shows it: the port alone on our own host, host:port otherwise.
    std::string shown(const PeerId& peer) const { return peer.display(node.config().host); }
    /// True for a plain file name; otherwise prints why not.
    bool valid_filename(const std::string& name) const;
    /// A peer's reputation score (0: a stranger).
    long long score(const PeerId& peer) const;
};

/// quit, scan, lp, connect, disconnect, sf, request, limit (lab_commands.cpp; help and `?` are
/// the console's own, console.cpp).
void add_lab_commands(CommandTable& table, ConsoleContext& ctx);
/// search, peers, topology (overlay_commands.cpp).
void add_overlay_commands(CommandTable& table, ConsoleContext& ctx);
/// id, ban, unban, unpin (trust_commands.cpp).
void add_trust_commands(CommandTable& table, ConsoleContext& ctx);
/// get (swarm_commands.cpp).
void add_swarm_commands(CommandTable& table, ConsoleContext& ctx);
/// dht (dht_commands.cpp).
void add_dht_commands(CommandTable& table, ConsoleContext& ctx);

/// `request <filename> <peer_id>`: true when done (the file is here, kept, or the disk or the
/// user stopped it); false when another source may be tried (lab_commands.cpp).
bool request_file(ConsoleContext& ctx, const std::string& name, const std::string& peer_arg, bool overwrite);

/// The holders of `name` the DHT (first) and a flooded search name, each printed once; best
/// score first (holders.cpp).
std::vector<PeerId> find_holders(ConsoleContext& ctx, const std::string& name);
/// With the DHT on: looks `name` up, asks each holder named there that is not in `seen`,
/// prints and returns those that have it (added to `seen`).
std::vector<PeerId> dht_holders(ConsoleContext& ctx, const std::string& name, std::set<PeerId>& seen);

/// Splits a command line into words.
std::vector<std::string> split_words(const std::string& line);

}  // namespace p2p
