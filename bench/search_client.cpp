// The load generator of bench/search_load.py: CLIENTS connections to one peer, each sending
// "SRCH <file>\n" and waiting for the whole answer "150 <file> found." before the next request.
// One thread and epoll, so the client costs little CPU next to the peer it measures (a Python
// client was the bottleneck on a 2-CPU machine). Prints "connected N" once every connection is
// made (the warm-up starts then), and at the end one line of JSON.
//
// Build: g++ -O2 -std=c++17 -o search-client bench/search_client.cpp
// Usage: search-client PORT FILE CLIENTS WARMUP_SECONDS SECONDS
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Connection {
    int fd = -1;
    std::string received;
    Clock::time_point sent;
    bool open = false;
};

int connect_to(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

bool send_all(int fd, const std::string& data) {
    for (std::size_t off = 0; off < data.size();) {
        ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        off += static_cast<std::size_t>(n);
    }
    return true;
}

double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return -1;
    auto k = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size()) + 0.5);
    k = std::min(sorted.size() - 1, k == 0 ? 0 : k - 1);
    return sorted[k];
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc != 6) {
        std::fprintf(stderr, "usage: %s PORT FILE CLIENTS WARMUP_SECONDS SECONDS\n", argv[0]);
        return 2;
    }
    const int port = std::atoi(argv[1]);
    const std::string name = argv[2];
    const int clients = std::atoi(argv[3]);
    const double warmup = std::atof(argv[4]), seconds = std::atof(argv[5]);
    const std::string request = "SRCH " + name + "\n";
    const std::string answer = "150 " + name + " found.";

    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    std::vector<Connection> conns(static_cast<std::size_t>(clients));
    int errors = 0;
    for (std::size_t i = 0; i < conns.size(); ++i) {
        conns[i].fd = connect_to(port);
        if (conns[i].fd < 0) { ++errors; continue; }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        ::epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
        conns[i].open = true;
    }
    // All connected: search_load.py starts its CPU-time window from this line.
    std::printf("connected %d\n", clients - errors);
    std::fflush(stdout);
    const auto start = Clock::now();
    const auto record_from = start + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(warmup));
    const auto stop_at = record_from + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(seconds));
    int live = 0;
    for (auto& c : conns) {
        if (!c.open) continue;
        c.sent = Clock::now();
        if (send_all(c.fd, request)) ++live;
        else { ++errors; c.open = false; ::close(c.fd); }
    }
    std::vector<double> latencies;
    latencies.reserve(1 << 20);
    std::vector<epoll_event> events(conns.size() + 1);
    char buf[4096];
    while (live > 0) {
        int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 1000);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {  // a second without any answer: the peer is stuck, give up
            if (Clock::now() > stop_at + std::chrono::seconds(10)) break;
            continue;
        }
        for (int e = 0; e < n; ++e) {
            Connection& c = conns[events[e].data.u64];
            if (!c.open) continue;
            ssize_t got = ::recv(c.fd, buf, sizeof buf, 0);
            if (got < 0 && errno == EINTR) continue;
            bool fail = got <= 0;
            if (!fail) {
                c.received.append(buf, static_cast<std::size_t>(got));
                if (c.received.size() < answer.size()) continue;
                fail = c.received != answer;
            }
            if (!fail) {
                const auto now = Clock::now();
                if (c.sent >= record_from && c.sent < stop_at)
                    latencies.push_back(std::chrono::duration<double>(now - c.sent).count());
                c.received.clear();
                if (now < stop_at) {
                    c.sent = now;
                    if (send_all(c.fd, request)) continue;
                    fail = true;
                }
            }
            if (fail) ++errors;
            ::close(c.fd);
            c.open = false;
            --live;
        }
    }
    for (auto& c : conns)
        if (c.open) { ++errors; ::close(c.fd); }
    ::close(ep);
    std::sort(latencies.begin(), latencies.end());
    std::printf("{\"requests\": %zu, \"rps\": %.1f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, "
                "\"max_ms\": %.3f, \"errors\": %d}\n",
                latencies.size(), static_cast<double>(latencies.size()) / seconds,
                percentile(latencies, 50) * 1e3, percentile(latencies, 99) * 1e3,
                latencies.empty() ? -1.0 : latencies.back() * 1e3, errors);
    return 0;
}
