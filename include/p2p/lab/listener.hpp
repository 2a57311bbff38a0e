// The accept thread: hands every new connection to a callback.
#pragma once

#include "p2p/net/socket.hpp"

#include <boost/thread/thread.hpp>

#include <atomic>
#include <cstdint>
#include <functional>

namespace p2p {

class Listener {
public:
    using AcceptFn = std::function<void(Socket, std::uint16_t peer_port)>;

    /// Takes a listening socket; `on_accept` runs on the listener thread for each connection.
    Listener(Socket listening, AcceptFn on_accept);
    ~Listener();

    void start();
    /// Wakes the blocked accept() (shutdown of the listening socket) and makes the loop end.
    void stop();
    /// Joins the thread, then closes the listening socket.
    void join();

    std::uint16_t port() const { return port_; }

private:
    void loop() noexcept;

    Socket socket_;
    std::uint16_t port_;
    AcceptFn on_accept_;
    std::atomic<bool> stopping_{false};
    boost::thread thread_;
};

}  // namespace p2p
