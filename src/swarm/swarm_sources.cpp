#include "p2p/swarm/swarm_sources.hpp"

#include "p2p/swarm/swarm_client.hpp"
#include "p2p/util/worker_thread.hpp"

#include <algorithm>
#include <map>

namespace p2p {
namespace {

struct Answer {
    std::unique_ptr<Socket> socket;
    std::string why;
    bool lab = false;
    ManifestAnswer manifest{ManifestAnswer::Kind::lost};
};

void ask(const std::string& name, const PeerId& peer, const DialFn& dial, const ReadLimits& limits,
         const SwarmOptions& options, Answer& answer) {
    answer.socket = dial(peer, answer.why, &answer.lab);
    // The root only: the full list is fetched once, from one source of the chosen version.
    if (answer.socket) answer.manifest = fetch_manifest(*answer.socket, name, limits, false, options.max_chunks);
}

}  // namespace

SourceSurvey survey_sources(const std::string& name, const std::vector<PeerId>& sources, const DialFn& dial,
                            const ReadLimits& limits, const SwarmOptions& options) {
    const std::size_t n = std::min(sources.size(), options.max_sources);
    std::vector<Answer> answers(n);
    {
        // One thread per source, as scan's probes: a silent source costs one timeout, not one each.
        std::vector<boost::thread> threads;
        threads.reserve(n);  // push_back cannot throw once a thread is started
        for (std::size_t i = 0; i < n; ++i) {
            try {
                threads.push_back(start_worker("probe", [&, i] { ask(name, sources[i], dial, limits, options, answers[i]); }));
            } catch (const boost::thread_resource_error&) {
                ask(name, sources[i], dial, limits, options, answers[i]);  // no thread: here, in turn
            }
        }
        for (auto& t : threads) t.join();
    }
    SourceSurvey survey;
    if (sources.size() > n)
        survey.notes.push_back(std::to_string(sources.size() - n) + " more sources not asked (at most " +
                               std::to_string(n) + " per download).");
    // The version most sources announce; on a tie, the one of the best-placed source.
    std::map<std::string, std::size_t> votes;
    for (const auto& a : answers)
        if (a.manifest.kind == ManifestAnswer::Kind::ready) ++votes[a.manifest.root];
    std::string root;
    std::size_t most = 0;
    for (const auto& a : answers)
        if (a.manifest.kind == ManifestAnswer::Kind::ready && votes[a.manifest.root] > most) {
            root = a.manifest.root;
            most = votes[root];
        }
    for (std::size_t i = 0; i < n; ++i) {
        Answer& a = answers[i];
        const std::string who = "Source " + sources[i].to_string() + " ";
        if (!a.socket) {
            survey.notes.push_back(who + a.why + ".");
            if (a.lab) survey.whole_file_sources.push_back(sources[i]);
            continue;
        }
        switch (a.manifest.kind) {
        case ManifestAnswer::Kind::ready:
            if (a.manifest.root == root) {
                survey.chosen.push_back({sources[i], std::move(a.socket)});
            } else {
                survey.notes.push_back(who + "has another version of " + name + " (root " +
                                       a.manifest.root.substr(0, 16) + "..., " + std::to_string(most) +
                                       (most == 1 ? " source has " : " sources have ") + root.substr(0, 16) +
                                       "...); not used.");
            }
            break;
        case ManifestAnswer::Kind::not_ready:
            survey.notes.push_back(who + "has not hashed " + name + " yet.");
            survey.whole_file_sources.push_back(sources[i]);
            break;
        case ManifestAnswer::Kind::not_found: survey.notes.push_back(who + "does not have " + name + "."); break;
        case ManifestAnswer::Kind::invalid_answer:
            survey.notes.push_back(who + "sent an invalid manifest.");
            survey.invalid.push_back(sources[i]);
            break;
        case ManifestAnswer::Kind::lost: survey.notes.push_back(who + "disconnected."); break;
        }
    }
    // The full manifest, from the first source of the chosen version that gives one matching it.
    while (!survey.chosen.empty() && !survey.manifest) {
        auto& first = survey.chosen.front();
        const auto full = fetch_manifest(*first.socket, name, limits, true, options.max_chunks);
        if (full.kind == ManifestAnswer::Kind::ready && full.root == root &&
            full.manifest->chunk_size <= options.max_chunk_size) {
            survey.manifest = full.manifest;
            break;
        }
        survey.notes.push_back("Source " + first.id.to_string() + " did not send the manifest it announced; not used.");
        survey.invalid.push_back(first.id);
        survey.chosen.erase(survey.chosen.begin());
    }
    return survey;
}

}  // namespace p2p
