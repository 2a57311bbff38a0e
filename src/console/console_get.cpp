// The console's `get`: a swarm download (docs/swarm.md), from the peers named or the holders a
// search finds, and what it says about the result.
#include "p2p/console/console.hpp"
#include "p2p/console/progress_bar.hpp"
#include "p2p/lab/protocol.hpp"

#include <boost/filesystem/operations.hpp>

#include <algorithm>

namespace p2p {
namespace {
constexpr const char* get_usage = "Usage: get [-f] <filename> [<peer_id> ...]";
}  // namespace

void Console::get(const std::vector<std::string>& args) {
    const bool overwrite = !args.empty() && args[0] == "-f";
    const std::size_t first = overwrite ? 1 : 0;
    if (args.size() <= first) {
        out_.line(get_usage);
        return;
    }
    const std::string& name = args[first];
    if (!valid_filename(name)) return;
    boost::system::error_code fec;
    if (!overwrite && boost::filesystem::exists(node_.files().path_for(name), fec)) {
        out_.line(name + " already exists in " + node_.files().dir().string() + "; kept it. Use 'get -f " + name +
                  "' to replace it.");
        return;
    }
    std::vector<PeerId> sources;
    if (args.size() > first + 1) {
        for (std::size_t i = first + 1; i < args.size(); ++i) {
            auto peer = peer_id(args[i], get_usage);
            if (!peer) return;
            if (std::find(sources.begin(), sources.end(), *peer) == sources.end()) sources.push_back(*peer);
        }
        out_.line("Get " + name + " from " + std::to_string(sources.size()) + (sources.size() == 1 ? " source:" : " sources:"));
    } else {
        if (!node_.overlay()) return;
        out_.line("Get " + name + ": searching the overlay (ttl " + std::to_string(overlay::default_ttl) + "):");
        sources = find_holders(name);
        if (sources.empty()) return;
    }
    ProgressBar bar(out_);
    std::function<void(const SwarmDownload::Progress&)> progress;
    if (out_.interactive())
        progress = [&bar](const SwarmDownload::Progress& p) {
            bar.show(p.done, p.total, p.received,
                     "  " + std::to_string(p.active_sources) + (p.active_sources == 1 ? " source" : " sources"));
        };
    auto note = [this](const std::string& line) { out_.line(protocol::escape_control(line)); };
    const Node::GetResult r = node_.get(name, sources, overwrite, note, progress);
    out_.end_progress();
    using G = Node::GetResult::Kind;
    switch (r.kind) {
    case G::interrupted: out_.line("Get " + name + " interrupted; nothing fetched."); return;
    case G::no_source: out_.line("No source could serve " + name + "; nothing fetched."); return;
    case G::no_manifest:
        for (const PeerId& whole : r.whole_file_sources) {
            out_.line("No source has a manifest of " + name + " ready; fetching it whole from " + whole.to_string() + ".");
            if (request(name, whole.to_string(), overwrite) || node_.exit_event().load()) return;
        }
        out_.line("No source could deliver " + name + " whole.");
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
            out_.line("Resumed: " + std::to_string(d.resumed_chunks) + " of " + std::to_string(d.chunk_count) +
                      " chunks were already here (verified again).");
        out_.line("Every chunk verified (SHA-256, root " + r.manifest->root_hex().substr(0, 16) + "...).");
        out_.line(name + ": " + std::to_string(d.received) + " bytes received from " + std::to_string(d.sources_used) +
                  (d.sources_used == 1 ? " source." : " sources."));
        break;
    case K::exists:
        out_.line(name + " already exists in " + node_.files().dir().string() + "; kept it (and the " + kept +
                  "). Use 'get -f " + name + "' to replace it.");
        break;
    case K::interrupted: out_.line("Get " + name + " interrupted; " + kept + again); break;
    case K::incomplete:
        out_.line("Get " + name + " failed: " + (d.detail.empty() ? "no source is left" : d.detail) + "; " + kept + again);
        break;
    case K::changed:
        out_.line("Get " + name + " failed: it changed on every source during the download (another root); "
                  "nothing was mixed: " + kept + " (of the old version; the next get starts over).");
        break;
    case K::write_failed: out_.line("Could not save " + name + ": " + d.detail + "; " + kept + "."); break;
    }
}

}  // namespace p2p
