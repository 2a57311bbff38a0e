#include "p2p/lab/scan.hpp"

#include "p2p/net/socket.hpp"
#include "p2p/util/worker_thread.hpp"

#include <boost/thread/thread.hpp>

#include <algorithm>

namespace p2p {

ScanResult scan_peers(const std::vector<PeerId>& ids, std::chrono::milliseconds timeout,
                      const std::atomic<bool>& cancel) {
    enum class Probe : char { not_probed, active, inactive };
    std::vector<Probe> probes(ids.size(), Probe::not_probed);
    ScanResult result;
    // One probe thread per id, at most 64 at a time: a range of silent hosts costs one
    // timeout per batch, not one per id. Each thread writes only its own slot; join()
    // publishes the results. A probe cut short by `cancel` stays not_probed.
    constexpr std::size_t batch = 64;
    for (std::size_t first = 0; first < ids.size() && !cancel.load() && result.thread_error.empty();
         first += batch) {
        std::vector<boost::thread> threads;
        threads.reserve(batch);  // push_back cannot throw once a thread is started
        for (std::size_t i = first; i < std::min(ids.size(), first + batch); ++i) {
            try {
                threads.push_back(start_worker("probe", [timeout, &cancel, &peer = ids[i], &slot = probes[i]] {
                    std::error_code ec;
                    Socket::connect(peer.host, peer.port, timeout, ec, &cancel);
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
    }
    result.interrupted = cancel.load() && result.not_scanned > 0;
    return result;
}

}  // namespace p2p
