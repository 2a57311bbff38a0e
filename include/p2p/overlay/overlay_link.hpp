// One outgoing overlay link: a connection of ours to a neighbour that carries overlay messages
// one way, from us to it. Its own thread connects, runs the handshake (handshake.hpp: the lab's
// probe, then HELLO both ways), then drains a bounded queue. send() never blocks: a reader thread that forwards a query can
// therefore never wait on a writer that waits on it (the deadlock of two nodes forwarding to
// each other is designed away, not timed out). Messages the other way come on its own link to us.
#pragma once

#include "p2p/dht/dht.hpp"
#include "p2p/overlay/handshake.hpp"
#include "p2p/net/peer_id.hpp"
#include "p2p/trust/network_secret.hpp"
#include "p2p/trust/pins.hpp"
#include "p2p/trust/reputation.hpp"
#include "p2p/net/socket.hpp"
#include "p2p/lab/trace.hpp"

#include <boost/thread/condition_variable.hpp>
#include <boost/thread/mutex.hpp>
#include <boost/thread/thread.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>

namespace p2p {

class OverlayLink {
public:
    enum class State { connecting, up, failed };

    /// A link from `self` to `to`; `greeting` (the first PEERS) is queued first. `trace` may
    /// be null; `on` is what its handshake offers and checks (handshake.hpp), and its DHT (if
    /// any) is told of the peer's.
    OverlayLink(PeerId to, PeerId self, std::string greeting, std::chrono::milliseconds connect_timeout,
                const Trace* trace = nullptr, Capabilities on = {}, std::size_t queue_cap = 256);
    ~OverlayLink();
    OverlayLink(const OverlayLink&) = delete;
    OverlayLink& operator=(const OverlayLink&) = delete;

    /// Starts the link's thread (throws boost::thread_resource_error when none can start).
    void start();
    /// Queues one message line; false (dropped) when the queue is full or the link failed.
    bool send(const std::string& line);
    State state() const { return state_.load(); }
    const PeerId& peer() const { return to_; }
    /// Once state() is failed: why the peer or this node refused the link ("refused us: it bans
    /// this node for another 597 s"), or empty when it simply did not come up.
    const std::string& refusal() const { return refusal_; }
    /// Messages dropped because the queue was full (a slow or stalled neighbour).
    std::size_t dropped() const { return dropped_.load(); }

    /// Ends the link: wakes its thread (queue wait or blocked connect/send) and joins it.
    void stop() { request_stop(); join(); }
    /// The two halves of stop(), so many links can be told at once and then joined.
    void request_stop();
    void join();

private:
    void run() noexcept;
    /// Connects, then writes queued lines until stop or a failed write.
    void serve();
    bool open(Socket& socket);

    const PeerId to_, self_;
    const std::chrono::milliseconds connect_timeout_;
    const Trace* const trace_;
    const Capabilities on_;
    const std::size_t queue_cap_;
    std::atomic<State> state_{State::connecting};
    std::atomic<bool> stopping_{false};
    std::atomic<std::size_t> dropped_{0};
    std::string refusal_;  ///< written by the link's thread before state_ turns failed, read after

    /// Guards queue_ and socket_: senders append from any thread; stop() shuts socket_ down
    /// to wake a blocked send. Never held across a connect or a send.
    boost::mutex mutex_;
    boost::condition_variable queued_;
    std::deque<std::string> queue_;
    std::shared_ptr<Socket> socket_;
    boost::thread thread_;
};

}  // namespace p2p
