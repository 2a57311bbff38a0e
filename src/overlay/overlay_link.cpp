#include "p2p/overlay/overlay_link.hpp"

#include "p2p/overlay/handshake.hpp"
#include "p2p/util/worker_thread.hpp"

#include <boost/thread/lock_guard.hpp>

namespace p2p {

OverlayLink::OverlayLink(PeerId to, PeerId self, std::string greeting,
                         std::chrono::milliseconds connect_timeout, const Trace* trace, Capabilities on,
                         std::size_t queue_cap)
    : to_(std::move(to)), self_(std::move(self)), connect_timeout_(connect_timeout), trace_(trace), on_(on),
      queue_cap_(queue_cap) {
    queue_.push_back(std::move(greeting));
}

OverlayLink::~OverlayLink() { stop(); }

void OverlayLink::start() { thread_ = start_worker("link", [this] { run(); }); }

bool OverlayLink::send(const std::string& line) {
    if (state_.load() == State::failed) return false;
    {
        boost::lock_guard<boost::mutex> lock(mutex_);
        if (queue_.size() >= queue_cap_) {
            ++dropped_;
            return false;
        }
        queue_.push_back(line);
    }
    queued_.notify_one();
    return true;
}

void OverlayLink::request_stop() {
    {
        boost::lock_guard<boost::mutex> lock(mutex_);
        stopping_.store(true);
        if (socket_) socket_->shutdown();
    }
    queued_.notify_all();
}

void OverlayLink::join() {
    if (thread_.joinable()) thread_.join();
}

bool OverlayLink::open(Socket& socket) {
    std::error_code ec;
    socket = Socket::connect(to_.host, to_.port, connect_timeout_, ec, &stopping_);
    if (ec) return false;
    socket.set_send_timeout(std::chrono::seconds(10));  // a neighbour that stopped reading
    socket.set_trace(trace_, to_.to_string());
    // Leaving from another address than our id's (127.0.0.1 dialling [::1], a host with several
    // addresses), our HELLO would not be taken and the link refused: try again later instead.
    if (socket.local_host() != self_.host) return false;
    // Only our nodes get past the handshake; a lab peer or a busy node is no overlay
    // neighbour, and never sees a byte it does not understand.
    const Handshake shake = handshake(socket, self_, {connect_timeout_ * 3, &stopping_}, on_);
    if (shake.kind == Handshake::Kind::failed && !shake.error.empty())
        refusal_ = (shake.refused_us ? "refused us: " : "refused: ") + shake.error;
    if (shake.kind != Handshake::Kind::ours || !has_capability(shake.peer->capabilities, overlay::capability))
        return false;
    if (auto refusal = on_.pins ? pin_refusal(*on_.pins, to_, shake.node_id) : std::nullopt) {
        refusal_ = "refused: " + *refusal;  // not the node pinned there
        return false;
    }
    if (on_.pins && on_.reputation && is_banned(*on_.reputation, *on_.pins, to_)) {
        refusal_ = "refused: it is banned";
        return false;
    }
    offer_dht(on_.dht, to_.host, shake.peer->capabilities);
    return true;
}

void OverlayLink::run() noexcept {
    try {
        serve();
    } catch (...) {
        // Out of memory: this link ends; the overlay replaces it.
    }
    state_.store(State::failed);
}

void OverlayLink::serve() {
    auto socket = std::make_shared<Socket>();
    if (!open(*socket)) return;
    {
        boost::lock_guard<boost::mutex> lock(mutex_);
        if (stopping_.load()) return;
        socket_ = socket;
    }
    state_.store(State::up);
    boost::unique_lock<boost::mutex> lock(mutex_);
    for (;;) {
        queued_.wait(lock, [this] { return stopping_.load() || !queue_.empty(); });
        if (stopping_.load()) break;
        std::string line = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        std::error_code ec;
        socket->write_all(line, ec);
        if (!ec) trace(*socket, Trace::Dir::sent, line);
        lock.lock();
        if (ec) break;
    }
    socket->shutdown();
}

}  // namespace p2p
