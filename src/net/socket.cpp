#include "p2p/net/socket.hpp"

#include "p2p/net/peer_id.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <fcntl.h>
#include <limits>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace p2p {
namespace {

std::error_code last_error() { return {errno, std::generic_category()}; }

std::uint16_t port_of(const sockaddr_storage& addr) {
    return ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6&>(addr).sin6_port
                                            : reinterpret_cast<const sockaddr_in&>(addr).sin_port);
}

// poll() takes an int of milliseconds: a longer wait (e.g. --idle-timeout beyond 24 days) would
// wrap into a short or negative one, so it is cut to the longest poll() can do. Negative: forever.
int poll_timeout(std::chrono::milliseconds timeout) {
    if (timeout.count() < 0) return -1;
    return static_cast<int>(std::min<std::chrono::milliseconds::rep>(
        timeout.count(), std::numeric_limits<int>::max()));
}

void set_nonblocking(int fd, bool on) {
    int flags = ::fcntl(fd, F_GETFL, 0);
    ::fcntl(fd, F_SETFL, on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK));
}

void set_timeout(int fd, int option, std::chrono::milliseconds timeout) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv);
}

}  // namespace

bool make_address(const std::string& host, std::uint16_t port, sockaddr_storage& addr, unsigned& len) {
    addr = {};
    auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
    if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        len = sizeof(sockaddr_in);
        return true;
    }
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
    if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        len = sizeof(sockaddr_in6);
        return true;
    }
    return false;
}

Socket& Socket::operator=(Socket&& other) noexcept {
    if (this != &other) {
        close();
        fd_ = other.release();
        tag_ = std::move(other.tag_);
        tls_ = std::move(other.tls_);
    }
    return *this;
}

Socket Socket::listen(const std::string& host, std::uint16_t port, std::error_code& ec) {
    sockaddr_storage addr;
    socklen_t len;
    if (!make_address(host, port, addr, len)) {
        ec = std::make_error_code(std::errc::invalid_argument);
        return {};
    }
    Socket s(::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s.is_open()) { ec = last_error(); return {}; }
    int one = 1;
    ::setsockopt(s.fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    // A v6 listener takes exactly the address it was given, never IPv4 too (:: would).
    if (addr.ss_family == AF_INET6) ::setsockopt(s.fd_, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (::bind(s.fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(s.fd_, SOMAXCONN) != 0) {
        ec = last_error();
        return {};
    }
    ec.clear();
    return s;
}

Socket Socket::connect(const std::string& host, std::uint16_t port,
                       std::chrono::milliseconds timeout, std::error_code& ec,
                       const std::atomic<bool>* cancel) {
    sockaddr_storage addr;
    socklen_t len;
    if (!make_address(host, port, addr, len)) {
        ec = std::make_error_code(std::errc::invalid_argument);
        return {};
    }
    Socket s(::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s.is_open()) { ec = last_error(); return {}; }
    // Non-blocking connect + poll: the only portable way to bound the connect time.
    set_nonblocking(s.fd_, true);
    if (::connect(s.fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
        if (errno != EINPROGRESS) { ec = last_error(); return {}; }
        // In slices, so quit or Ctrl-C ends a connect to a silent host at once.
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (cancel && cancel->load()) { ec = std::make_error_code(std::errc::operation_canceled); return {}; }
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) { ec = std::make_error_code(std::errc::timed_out); return {}; }
            pollfd p{s.fd_, POLLOUT, 0};
            int n = ::poll(&p, 1, poll_timeout(std::min(left, std::chrono::milliseconds(100))));
            if (n > 0) break;
            if (n < 0 && errno != EINTR) { ec = last_error(); return {}; }
        }
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(s.fd_, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) { ec = {err, std::generic_category()}; return {}; }
    }
    set_nonblocking(s.fd_, false);
    int one = 1;
    ::setsockopt(s.fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ec.clear();
    return s;
}

Socket Socket::accept(std::uint16_t& peer_port, std::error_code& ec) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    int fd;
    do {
        fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_CLOEXEC);
    } while (fd < 0 && (errno == EINTR || errno == ECONNABORTED));
    if (fd < 0) { ec = last_error(); return {}; }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    peer_port = port_of(addr);
    ec.clear();
    return Socket(fd);
}

Wait Socket::wait_readable(std::chrono::milliseconds timeout) const {
    if (tls_ && tls_->pending()) return Wait::ready;  // decrypted already, nothing on the wire
    pollfd p{fd_, POLLIN, 0};
    int n;
    do { n = ::poll(&p, 1, poll_timeout(timeout)); } while (n < 0 && errno == EINTR);
    if (n == 0) return Wait::timeout;
    if (n < 0) return Wait::error;
    return Wait::ready;  // POLLIN, POLLHUP and POLLERR all mean "a read will not block"
}

std::size_t Socket::read_some(char* buf, std::size_t len, std::error_code& ec) {
    if (tls_) return tls_->read_some(buf, len, ec);
    ssize_t n;
    do { n = ::recv(fd_, buf, len, 0); } while (n < 0 && errno == EINTR);
    if (n < 0) { ec = last_error(); return 0; }
    ec.clear();
    return static_cast<std::size_t>(n);
}

void Socket::write_all(const char* data, std::size_t len, std::error_code& ec) {
    if (tls_) return tls_->write_all(data, len, ec);
    while (len > 0) {
        // MSG_NOSIGNAL: a peer that vanished is an error code here, not a SIGPIPE for the process.
        ssize_t n = ::send(fd_, data, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            ec = (errno == EAGAIN || errno == EWOULDBLOCK)
                     ? std::make_error_code(std::errc::timed_out) : last_error();
            return;
        }
        data += n;
        len -= static_cast<std::size_t>(n);
    }
    ec.clear();
}

void Socket::set_send_timeout(std::chrono::milliseconds timeout) { set_timeout(fd_, SO_SNDTIMEO, timeout); }

void Socket::set_receive_timeout(std::chrono::milliseconds timeout) { set_timeout(fd_, SO_RCVTIMEO, timeout); }

void Socket::shutdown() const {
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

void Socket::close() {
    tls_.reset();  // before its descriptor goes
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

bool Socket::start_tls(const TlsContext& context, TlsLayer::Role role, std::chrono::milliseconds timeout,
                       std::string& error, const std::atomic<bool>* cancel) {
    tls_ = TlsLayer::start(context, fd_, role, timeout, error, cancel);
    if (tls_) set_receive_timeout(std::chrono::seconds(30));
    return tls_ != nullptr;
}

std::string Socket::remote_host() const {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return {};
    return host_of(addr);
}

std::string Socket::local_host() const {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return {};
    return host_of(addr);
}

std::string Socket::host_of(const sockaddr_storage& addr) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* raw = addr.ss_family == AF_INET6
        ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in6&>(addr).sin6_addr)
        : static_cast<const void*>(&reinterpret_cast<const sockaddr_in&>(addr).sin_addr);
    if (!::inet_ntop(addr.ss_family, raw, text, sizeof text)) return {};
    std::string ignored;
    auto host = parse_host(text, ignored);  // one spelling per host, as PeerId has it
    return host ? *host : std::string(text);
}

std::uint16_t Socket::local_port() const {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
    return port_of(addr);
}

}  // namespace p2p
