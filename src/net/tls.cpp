#include "p2p/net/tls.hpp"

#include "p2p/net/identity.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

namespace p2p {

namespace {

// Every certificate is self-signed, so the chain check always fails: accept it here and let
// the node id (the certificate's hash) and the pins decide. A peer must present one, though.
int accept_any_certificate(int, X509_STORE_CTX*) { return 1; }

std::string last_ssl_error() {
    const unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0) return errno != 0 ? std::generic_category().message(errno) : "the peer closed the connection";
    char text[256];
    ERR_error_string_n(e, text, sizeof text);
    return text;
}

void set_nonblocking(int fd, bool on) {
    const int flags = ::fcntl(fd, F_GETFL, 0);
    ::fcntl(fd, F_SETFL, on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK));
}

// The handshake on a non-blocking descriptor, in 100 ms slices against one deadline.
bool run_handshake(SSL* ssl, int fd, std::chrono::milliseconds timeout, const std::atomic<bool>* cancel,
                   std::string& error) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        errno = 0;
        const int r = SSL_do_handshake(ssl);
        if (r == 1) return true;
        const int e = SSL_get_error(ssl, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            error = "TLS handshake failed: " + last_ssl_error();
            return false;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            error = "TLS handshake timed out";
            return false;
        }
        if (cancel && cancel->load()) {
            error = "TLS handshake interrupted";
            return false;
        }
        pollfd p{fd, static_cast<short>(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT), 0};
        ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 100)));
    }
}


// A blocking call that failed: what the Socket's callers know (timed out, closed, an error). On a
// blocking socket with SO_RCVTIMEO/SO_SNDTIMEO, OpenSSL's socket BIO reports a timeout as
// WANT_READ/WANT_WRITE with errno EAGAIN.
std::error_code error_of(SSL* ssl, int ret) {
    const int saved = errno;
    const int e = SSL_get_error(ssl, ret);
    ERR_clear_error();
    if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_SYSCALL) &&
        (saved == EAGAIN || saved == EWOULDBLOCK))
        return std::make_error_code(std::errc::timed_out);
    if (e == SSL_ERROR_SYSCALL && saved != 0) return std::error_code(saved, std::generic_category());
    return std::make_error_code(std::errc::connection_aborted);
}

}  // namespace

TlsContext::TlsContext(const Identity& identity) {
    ctx_ = SSL_CTX_new(TLS_method());
    if (!ctx_ || SSL_CTX_set_min_proto_version(ctx_, TLS1_3_VERSION) != 1 ||
        SSL_CTX_use_certificate(ctx_, identity.certificate()) != 1 ||
        SSL_CTX_use_PrivateKey(ctx_, identity.key()) != 1 || SSL_CTX_check_private_key(ctx_) != 1) {
        SSL_CTX_free(ctx_);
        throw std::runtime_error("cannot set up TLS: " + last_ssl_error());
    }
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any_certificate);
    // A peer that closes without close_notify has ended the connection, not attacked it: our
    // stop() shuts descriptors down, and every message here is framed, so no truncation is
    // mistaken for an end.
    SSL_CTX_set_options(ctx_, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx_, 0);  // no resumption: every connection proves its certificate
    // Read ahead: one read() takes many records (a file arrives as 16 KiB records), not one
    // read() per record. Bytes it holds count as pending (SSL_has_pending), so no wait polls
    // the descriptor while they are there.
    SSL_CTX_set_read_ahead(ctx_, 1);
    SSL_CTX_set_default_read_buffer_len(ctx_, 256 * 1024);
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

std::unique_ptr<TlsLayer> TlsLayer::start(const TlsContext& context, int fd, Role role,
                                          std::chrono::milliseconds timeout, std::string& error,
                                          const std::atomic<bool>* cancel) {
    SSL* ssl = SSL_new(context.native());
    if (!ssl || SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        error = "cannot start TLS: " + last_ssl_error();
        return nullptr;
    }
    if (role == Role::client) SSL_set_connect_state(ssl);
    else SSL_set_accept_state(ssl);
    set_nonblocking(fd, true);
    const bool done = run_handshake(ssl, fd, timeout, cancel, error);
    set_nonblocking(fd, false);
    if (!done) {
        SSL_free(ssl);
        return nullptr;
    }
    X509* cert = SSL_get1_peer_certificate(ssl);
    std::string id = node_id_of(cert);
    X509_free(cert);
    if (id.empty()) {
        SSL_free(ssl);
        error = "the peer presented no usable certificate";
        return nullptr;
    }
    return std::unique_ptr<TlsLayer>(new TlsLayer(ssl, std::move(id)));
}

TlsLayer::~TlsLayer() { SSL_free(ssl_); }

std::size_t TlsLayer::read_some(char* buf, std::size_t len, std::error_code& ec) {
    int n;
    do {  // a signal (SIGINT has no SA_RESTART) is no reason to end the connection
        errno = 0;
        n = SSL_read(ssl_, buf, static_cast<int>(std::min<std::size_t>(len, 1 << 30)));
    } while (n <= 0 && errno == EINTR && SSL_get_error(ssl_, n) != SSL_ERROR_ZERO_RETURN);
    if (n > 0) {
        ec.clear();
        return static_cast<std::size_t>(n);
    }
    if (SSL_get_error(ssl_, n) == SSL_ERROR_ZERO_RETURN ||
        (SSL_get_error(ssl_, n) == SSL_ERROR_SYSCALL && errno == 0)) {
        ERR_clear_error();
        ec.clear();
        return 0;  // closed: with or without close_notify (SSL_OP_IGNORE_UNEXPECTED_EOF)
    }
    ec = error_of(ssl_, n);
    return 0;
}

void TlsLayer::write_all(const char* data, std::size_t len, std::error_code& ec) {
    while (len > 0) {
        errno = 0;
        const int n = SSL_write(ssl_, data, static_cast<int>(std::min<std::size_t>(len, 1 << 20)));
        if (n <= 0 && errno == EINTR) continue;
        if (n <= 0) {
            ec = error_of(ssl_, n);
            return;
        }
        data += n;
        len -= static_cast<std::size_t>(n);
    }
    ec.clear();
}

bool TlsLayer::pending() const { return SSL_has_pending(ssl_) == 1; }

bool TlsLayer::export_keying_material(const std::string& label, unsigned char* out, std::size_t size) const {
    return SSL_export_keying_material(ssl_, out, size, label.data(), label.size(), nullptr, 0, 0) == 1;
}

std::string TlsLayer::description() const {
    return std::string(SSL_get_version(ssl_)) + " " + SSL_CIPHER_get_name(SSL_get_current_cipher(ssl_));
}

}  // namespace p2p
