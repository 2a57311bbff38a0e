// A TCP socket as a plain POSIX descriptor behind RAII.
//
// Why not Boost.Asio's synchronous sockets: a blocked Asio accept() is not woken by close() from
// another thread (asio#1604) and SO_RCVTIMEO does not bound an Asio read (asio#281). Both the
// listener and every session must be wakeable at shutdown and bounded in time, so we poll() the
// descriptor ourselves and wake blocked calls with ::shutdown().
#pragma once

#include "p2p/net/tls.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <system_error>

struct sockaddr_storage;

namespace p2p {

class Trace;

/// Who traces this connection's messages, and the name of its peer in the trace (trace.hpp).
struct TraceTag {
    const Trace* trace = nullptr;
    std::string peer;
};

/// Fills `addr` with a numeric IPv4 or IPv6 address (no brackets) and `port`; `len` is the size
/// of that family's sockaddr. False if `host` is neither.
bool make_address(const std::string& host, std::uint16_t port, sockaddr_storage& addr, unsigned& len);

/// Result of a bounded wait on a descriptor.
enum class Wait { ready, timeout, error };

class Socket {
public:
    Socket() = default;
    explicit Socket(int fd) : fd_(fd) {}
    ~Socket() { close(); }
    Socket(Socket&& other) noexcept
        : fd_(other.release()), tag_(std::move(other.tag_)), tls_(std::move(other.tls_)) {}
    Socket& operator=(Socket&& other) noexcept;
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;

    /// Listening socket on host:port (a numeric IPv4 or IPv6 address; port 0 = chosen by the OS),
    /// SO_REUSEADDR set; an IPv6 one is IPV6_V6ONLY, so it takes exactly the address given.
    static Socket listen(const std::string& host, std::uint16_t port, std::error_code& ec);
    /// Connects within `timeout`; the returned socket is blocking again. Once `cancel` is set
    /// (checked every 100 ms) it gives up with std::errc::operation_canceled.
    static Socket connect(const std::string& host, std::uint16_t port,
                          std::chrono::milliseconds timeout, std::error_code& ec,
                          const std::atomic<bool>* cancel = nullptr);

    /// Accepts one connection; fails with an error once shutdown() was called on this socket.
    Socket accept(std::uint16_t& peer_port, std::error_code& ec);

    /// Waits until the socket is readable (or closed by the peer) for at most `timeout`.
    Wait wait_readable(std::chrono::milliseconds timeout) const;
    /// One recv(); 0 means orderly close by the peer.
    std::size_t read_some(char* buf, std::size_t len, std::error_code& ec);
    /// Sends everything or fails (a send timeout, if set, counts as failure).
    void write_all(const char* data, std::size_t len, std::error_code& ec);
    void write_all(const std::string& s, std::error_code& ec) { write_all(s.data(), s.size(), ec); }

    /// Bounds every blocking send (a peer that stops reading cannot hold a thread forever).
    void set_send_timeout(std::chrono::milliseconds timeout);
    /// Bounds every blocking receive (TLS: poll() says readable, but a record may be half there).
    void set_receive_timeout(std::chrono::milliseconds timeout);
    /// Wakes every thread blocked on this socket; safe to call from any thread while it is open.
    void shutdown() const;
    void close();

    std::uint16_t local_port() const;
    /// The connected peer's numeric address (IPv4-mapped IPv6 as IPv4); empty on error.
    std::string remote_host() const;
    /// This end's numeric address, spelled the same way.
    std::string local_host() const;
    int native_handle() const { return fd_; }
    bool is_open() const { return fd_ >= 0; }
    int release() { int fd = fd_; fd_ = -1; return fd; }

    /// Puts TLS under this connection (tls.hpp): the handshake now, within `timeout`; from then
    /// on read_some, write_all and wait_readable go through it, and a read blocked inside a
    /// half record gives up after 30 s (set_receive_timeout). False, with `error`, on failure
    /// (the connection is then unusable).
    bool start_tls(const TlsContext& context, TlsLayer::Role role, std::chrono::milliseconds timeout,
                   std::string& error, const std::atomic<bool>* cancel = nullptr);
    /// The TLS layer, or null on a plain connection.
    const TlsLayer* tls() const { return tls_.get(); }

    /// Set before the socket is shared, then only by the one thread that reads and writes
    /// its messages (stop() on another thread touches the descriptor only).
    void set_trace(const Trace* trace, std::string peer) { tag_ = {trace, std::move(peer)}; }
    const TraceTag& trace_tag() const { return tag_; }
    /// The peer's name in the trace, once it is known better (a HELLO's id).
    void rename_trace_peer(std::string peer) { tag_.peer = std::move(peer); }

private:
    static std::string host_of(const sockaddr_storage& addr);
    int fd_ = -1;
    TraceTag tag_;
    std::unique_ptr<TlsLayer> tls_;
};

}  // namespace p2p
