// The node's `scan`: a TCP connect to each id, at most 64 at a time, each bounded by the
// connect timeout and cut short by the exit event; an active id is remembered as seen.
#include "p2p/node/node.hpp"

#include "p2p/util/worker_thread.hpp"

#include <boost/thread/thread.hpp>

#include <algorithm>

namespace p2p {

ScanResult Node::scan() {
    std::vector<PeerId> targets;
    for (unsigned p = config_.scan_low; p <= config_.scan_high; ++p)
        targets.push_back({config_.host, static_cast<std::uint16_t>(p)});
    return scan(targets);
}

ScanResult Node::scan(const std::vector<PeerId>& targets) {
    enum class Probe : char { not_probed, active, inactive };
    const PeerId me = id();
    std::vector<PeerId> ids;
    for (const auto& t : targets)
        if (t != me) ids.push_back(t);
    std::vector<Probe> probes(ids.size(), Probe::not_probed);
    ScanResult result;
    // One probe thread per id, at most 64 at a time: a range of silent hosts costs one
    // timeout per batch, not one per id. Each thread writes only its own slot; join()
    // publishes the results. A probe cut short by the exit event stays not_probed.
    constexpr std::size_t batch = 64;
    for (std::size_t first = 0; first < ids.size() && !exit_.load() && result.thread_error.empty();
         first += batch) {
        std::vector<boost::thread> threads;
        threads.reserve(batch);  // push_back cannot throw once a thread is started
        for (std::size_t i = first; i < std::min(ids.size(), first + batch); ++i) {
            try {
                threads.push_back(start_worker("probe", [this, &peer = ids[i], &slot = probes[i]] {
                    std::error_code ec;
                    Socket::connect(peer.host, peer.port, config_.connect_timeout, ec, &exit_);
                    if (ec != std::errc::operation_canceled)
                        slot = ec ? Probe::inactive : Probe::active;
                }));
            } catch (const boost::thread_resource_error& e) {
                result.thread_error = e.code().message();
                break;
            } catch (const std::exception& e) {  // bad_alloc: the threads started must be joined
                result.thread_error = e.what();
                break;
            }
        }
        for (auto& t : threads) t.join();
    }
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (probes[i] == Probe::not_probed) ++result.not_scanned;
        else result.probed.emplace_back(ids[i], probes[i] == Probe::active);
        if (probes[i] == Probe::active) known_.seen(ids[i]);
    }
    save_known_peers();
    result.interrupted = exit_.load() && result.not_scanned > 0;
    return result;
}

}  // namespace p2p
