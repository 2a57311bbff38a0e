// The console's `get`: a swarm download (docs/swarm.md), from the peers named or the holders a
// search finds, and what it says about the result.
#include "p2p/console/commands.hpp"
#include "p2p/console/progress_bar.hpp"
#include "p2p/lab/protocol.hpp"

#include <boost/filesystem/operations.hpp>

#include <algorithm>

namespace p2p {
namespace {
constexpr const char* get_usage = "Usage: get [-f] <filename> [<peer_id> ...]";


void get(ConsoleContext& ctx, const std::vector<std::string>& args) {
    const bool overwrite = !args.empty() && args[0] == "-f";
    const std::size_t first = overwrite ? 1 : 0;
    if (args.size() <= first) {
        ctx.out.line(get_usage);
        return;
    }
    const std::string& name = args[first];
    if (!ctx.valid_filename(name)) return;
    boost::system::error_code fec;
    if (!overwrite && boost::filesystem::exists(ctx.node.files().path_for(name), fec)) {
        ctx.out.line(name + " already exists in " + ctx.node.files().dir().string() + "; kept it. Use 'get -f " + name +
                  "' to replace it.");
        return;
    }
    std::vector<PeerId> sources;
    if (args.size() > first + 1) {
        for (std::size_t i = first + 1; i < args.size(); ++i) {
            auto peer = ctx.peer_id(args[i], get_usage);
            if (!peer) return;
            if (std::find(sources.begin(), sources.end(), *peer) == sources.end()) sources.push_back(*peer);
        }
        ctx.out.line("Get " + name + " from " + std::to_string(sources.size()) + (sources.size() == 1 ? " source:" : " sources:"));
    } else {
        if (!ctx.node.overlay()) return;
        ctx.out.line("Get " + name + ": searching the overlay (ttl " + std::to_string(overlay::default_ttl) + "):");
        sources = find_holders(ctx, name);
        if (sources.empty()) return;
    }
    ProgressBar bar(ctx.out);
    std::function<void(const SwarmDownload::Progress&)> progress;
    if (ctx.out.interactive())
        progress = [&bar](const SwarmDownload::Progress& p) {
            // Done: the sources that delivered (none is active any more); before: those at work.
            const std::size_t n = p.done == p.total ? p.delivering_sources : p.active_sources;
            bar.show(p.done, p.total, p.received, "  " + std::to_string(n) + (n == 1 ? " source" : " sources"));
        };
    auto note = [&ctx](const std::string& line) { ctx.out.line(protocol::escape_control(line)); };
    const Node::GetResult r = ctx.node.get(name, sources, overwrite, note, progress);
    ctx.out.end_progress();
    using G = Node::GetResult::Kind;
    switch (r.kind) {
    case G::interrupted: ctx.out.line("Get " + name + " interrupted; nothing fetched."); return;
    case G::no_source: ctx.out.line("No source could serve " + name + "; nothing fetched."); return;
    case G::no_manifest:
        for (const PeerId& whole : r.whole_file_sources) {
            ctx.out.line("No source has a manifest of " + name + " ready; fetching it whole from " + whole.to_string() + ".");
            if (request_file(ctx, name, whole.to_string(), overwrite) || ctx.node.exit_event().load()) return;
        }
        ctx.out.line("No source could deliver " + name + " whole.");
        return;
    case G::swarm: break;
    }
    const auto& d = r.swarm;
    using K = SwarmDownload::Result::Kind;
    const std::string kept = std::to_string(d.kept_chunks) + " of " + std::to_string(d.chunk_count) +
                             " chunks verified and kept in " + SwarmDownload::part_name(name);
    // Without a state folder there is no bitmap: the chunks are there, but the next get starts over.
    const std::string again = d.resumable ? ", 'get " + name + "' resumes." : " (no state folder: the next get starts over).";
    switch (d.kind) {
    case K::saved:
        if (d.resumed_chunks)
            ctx.out.line("Resumed: " + std::to_string(d.resumed_chunks) + " of " + std::to_string(d.chunk_count) +
                      " chunks were already here (verified again).");
        ctx.out.line("Every chunk verified (SHA-256, root " + r.manifest->root_hex().substr(0, 16) + "...).");
        ctx.out.line(name + ": " + std::to_string(d.received) + " bytes received from " + std::to_string(d.sources_used) +
                  (d.sources_used == 1 ? " source." : " sources."));
        break;
    case K::exists:
        ctx.out.line(name + " already exists in " + ctx.node.files().dir().string() + "; kept it (and the " + kept +
                  "). Use 'get -f " + name + "' to replace it.");
        break;
    case K::interrupted: ctx.out.line("Get " + name + " interrupted; " + kept + again); break;
    case K::incomplete:
        ctx.out.line("Get " + name + " failed: " + (d.detail.empty() ? "no source is left" : d.detail) + "; " + kept + again);
        break;
    case K::changed:
        ctx.out.line("Get " + name + " failed: it changed on every source during the download (another root); "
                  "nothing was mixed: " + kept + " (of the old version; the next get starts over).");
        break;
    case K::write_failed: ctx.out.line("Could not save " + name + ": " + d.detail + "; " + kept + "."); break;
    }
}

}  // namespace

void add_swarm_commands(CommandTable& table, ConsoleContext& ctx) {
    table.add({"get",
               [&ctx](const Args& a) {
                   get(ctx, a);
                   return true;
               },
               {{CommandTable::ours + 110, "get <filename> [peer_id ...]: Download in verified chunks from every holder at once (docs/swarm.md)."}},
               nullptr});
}

}  // namespace p2p
