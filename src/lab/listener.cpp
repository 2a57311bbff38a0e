#include "p2p/lab/listener.hpp"

#include "p2p/util/worker_thread.hpp"

#include <chrono>
#include <thread>

namespace p2p {

Listener::Listener(Socket listening, AcceptFn on_accept)
    : socket_(std::move(listening)), port_(socket_.local_port()), on_accept_(std::move(on_accept)) {}

Listener::~Listener() {
    stop();
    join();
}

void Listener::start() { thread_ = start_worker("listener", [this] { loop(); }); }

void Listener::stop() {
    stopping_.store(true);
    // close() from another thread would not wake accept() (asio#1604 has the same cause);
    // shutdown() makes the blocked accept() fail with EINVAL at once.
    socket_.shutdown();
}

void Listener::join() {
    if (thread_.joinable()) thread_.join();
    socket_.close();
}

void Listener::loop() noexcept {
    while (!stopping_.load()) {
        std::uint16_t peer_port = 0;
        std::error_code ec;
        Socket peer = socket_.accept(peer_port, ec);
        if (stopping_.load()) return;
        if (ec) {
            // Out of descriptors or memory: back off instead of spinning, then keep serving.
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            continue;
        }
        try {
            on_accept_(std::move(peer), peer_port);
        } catch (...) {
            // A failed hand-over loses this one connection (its socket closes), not the listener.
        }
    }
}

}  // namespace p2p
