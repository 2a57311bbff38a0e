#include "support.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace p2p::test {

namespace {
// Tests write to sockets a peer may have closed: that must be an error code, not SIGPIPE.
const bool sigpipe_ignored = [] { ::signal(SIGPIPE, SIG_IGN); return true; }();
}

TempDir::TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "p2p-test-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
}

TempDir::~TempDir() {
    boost::system::error_code ec;
    fs::remove_all(path_, ec);
}

std::uint16_t free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

HeldPort::HeldPort(Hold how, std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    if (how == Hold::for_program) {
        int one = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        (how == Hold::listening && ::listen(fd_, 16) != 0) ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(fd_);
        fd_ = -1;
        return;
    }
    port_ = ntohs(addr.sin_port);
}

HeldPort::~HeldPort() {
    if (fd_ >= 0) ::close(fd_);
}

HeldPort::HeldPort(HeldPort&& other) noexcept : fd_(other.fd_), port_(other.port_) {
    other.fd_ = -1;
}

bool ipv6_loopback_available() {
    int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

std::vector<HeldPort> hold_port_run(const std::vector<Hold>& how) {
    if (how.empty()) return {};
    // The system picks the first port; the rest are taken after it if they are free.
    for (int attempt = 0; attempt < 200; ++attempt) {
        std::vector<HeldPort> run;
        run.emplace_back(how[0]);
        if (!run[0].held()) continue;
        const unsigned base = run[0].port();
        if (base + how.size() > 65536) continue;
        for (std::size_t i = 1; i < how.size(); ++i) {
            run.emplace_back(how[i], static_cast<std::uint16_t>(base + i));
            if (!run.back().held()) break;
        }
        if (run.size() == how.size() && run.back().held()) return run;
    }
    throw std::runtime_error("no run of free ports found");
}

namespace {

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    return a;
}

unsigned random_below(unsigned n) {
    static std::mt19937 rng(std::random_device{}());
    return std::uniform_int_distribution<unsigned>(0, n - 1)(rng);
}

int bound_to(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = loopback(port);
    if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return fd;
    if (fd >= 0) ::close(fd);
    return -1;
}

}  // namespace

SilentPorts::SilentPorts(unsigned n) {
    for (int attempt = 0; attempt < 100 && fds_.empty(); ++attempt) {
        std::vector<int> run;
        // Below the ephemeral range (32768 and up): there, the many connections of a test run
        // and their TIME_WAIT leave few long runs of free ports, and new ones appear all the time.
        const std::uint16_t base = static_cast<std::uint16_t>(12000 + random_below(20000 - n));
        for (unsigned i = 0; i < n; ++i) {
            int fd = bound_to(static_cast<std::uint16_t>(base + i));
            if (fd < 0) break;
            run.push_back(fd);
        }
        if (run.size() == n) {
            fds_ = run;
            first_ = base;
        } else {
            for (int fd : run) ::close(fd);
        }
    }
    if (fds_.empty()) throw std::runtime_error("no run of " + std::to_string(n) + " free ports");
    for (unsigned i = 0; i < n; ++i) {
        if (::listen(fds_[i], 0) != 0) {
            for (int fd : fds_) ::close(fd);  // no destructor runs after a throwing constructor
            for (int fd : fillers_) ::close(fd);
            throw std::runtime_error("listen on a silent port failed");
        }
        for (int k = 0; k < 3; ++k) fill(static_cast<std::uint16_t>(first_ + i));
    }
}

SilentPorts::~SilentPorts() {
    for (int fd : fds_) ::close(fd);
    for (int fd : fillers_) ::close(fd);
}

void SilentPorts::fill(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_in a = loopback(port);
    ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    fillers_.push_back(fd);
}

void write_file(const fs::path& path, std::uint64_t size, unsigned seed) {
    std::ofstream out(path.string(), std::ios::binary);
    // splitmix64, eight bytes a step: cheap even in the sanitizer builds, where a byte-by-byte
    // std::mt19937 spent most of the hostile suite's time writing its 64 MiB files.
    std::uint64_t state = seed;
    std::vector<char> buf(1 << 16);
    while (size > 0) {
        std::size_t n = size < buf.size() ? static_cast<std::size_t>(size) : buf.size();
        for (std::size_t i = 0; i < n; i += 8) {
            std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            z ^= z >> 31;
            std::memcpy(buf.data() + i, &z, std::min<std::size_t>(8, n - i));
        }
        out.write(buf.data(), static_cast<std::streamsize>(n));
        size -= n;
    }
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path.string(), std::ios::binary);
    std::ostringstream bytes;  // block copies: a char-by-char iterator is slow in debug builds
    bytes << in.rdbuf();
    return bytes.str();
}

bool same_bytes(const fs::path& a, const fs::path& b) {
    if (!fs::exists(a) || !fs::exists(b) || fs::file_size(a) != fs::file_size(b)) return false;
    std::ifstream fa(a.string(), std::ios::binary), fb(b.string(), std::ios::binary);
    std::vector<char> ba(1 << 16), bb(1 << 16);
    while (fa && fb) {
        fa.read(ba.data(), static_cast<std::streamsize>(ba.size()));
        fb.read(bb.data(), static_cast<std::streamsize>(bb.size()));
        if (fa.gcount() != fb.gcount() ||
            !std::equal(ba.begin(), ba.begin() + fa.gcount(), bb.begin()))
            return false;
    }
    return true;
}

// The test binary lives below the repository (test/bin/...): walk up from it to the Jamroot.
// Not __FILE__: it is relative to wherever b2 ran the compiler, and tests run elsewhere.
fs::path repo_root() {
    boost::system::error_code ec;
    for (fs::path p = fs::read_symlink("/proc/self/exe", ec).parent_path(); !ec && !p.empty();
         p = p.parent_path()) {
        if (fs::exists(p / "Jamroot") && fs::exists(p / "test" / "support.hpp")) return p;
        if (p == p.root_path()) break;
    }
    return fs::absolute(fs::path(__FILE__)).parent_path().parent_path();
}

fs::path node_binary() {
    if (const char* env = std::getenv("P2P_NODE")) return env;
    return repo_root() / "stage" / "p2p-node";
}

Child::Child(const std::vector<std::string>& argv, const fs::path& cwd) {
    int in_pipe[2], out_pipe[2];
    if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0)
        throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        ::dup2(in_pipe[0], 0);
        ::dup2(out_pipe[1], 1);
        ::dup2(out_pipe[1], 2);
        if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
        ::signal(SIGPIPE, SIG_DFL);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    in_ = in_pipe[1];
    out_ = out_pipe[0];
}

Child::~Child() {
    if (!exited_) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status_, 0);
    }
    if (in_ >= 0) ::close(in_);
    if (out_ >= 0) ::close(out_);
}

void Child::send(const std::string& text) {
    const char* p = text.data();
    std::size_t left = text.size();
    while (left > 0) {
        ssize_t n = ::write(in_, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

void Child::close_stdin() {
    if (in_ >= 0) ::close(in_);
    in_ = -1;
}

void Child::pump(std::chrono::milliseconds timeout) {
    if (out_ < 0) {
        std::this_thread::sleep_for(timeout);
        return;
    }
    pollfd p{out_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return;
    char buf[65536];
    ssize_t n = ::read(out_, buf, sizeof buf);
    if (n > 0) output_.append(buf, static_cast<std::size_t>(n));
    else if (n == 0) { ::close(out_); out_ = -1; }
}

bool Child::wait_for(const std::string& needle, std::chrono::milliseconds timeout) {
    return wait_for_count(needle, count(output_, needle) + 1, timeout);
}

std::size_t Child::wait_for_at(std::size_t from, const std::string& needle,
                               std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (from <= output_.size()) {
            auto pos = output_.find(needle, from);
            if (pos != std::string::npos) return pos;
        }
        auto now = std::chrono::steady_clock::now();
        if (now >= deadline) return std::string::npos;
        pump(std::min<std::chrono::milliseconds>(
            50ms, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now)));
    }
}

bool Child::wait_for_count(const std::string& needle, std::size_t n, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (count(output_, needle) < n) {
        auto now = std::chrono::steady_clock::now();
        if (now >= deadline) return false;
        pump(std::min<std::chrono::milliseconds>(
            50ms, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now)));
    }
    return true;
}

std::uint16_t Child::listening_port(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const std::string prefix = "Node listening on ";
    const std::size_t at = wait_for_at(0, prefix, timeout);
    if (at == std::string::npos) return 0;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    const std::size_t end = wait_for_at(at, "\n", std::max(left, std::chrono::milliseconds(0)));
    if (end == std::string::npos) return 0;
    // "HOST:PORT" or "[V6]:PORT": the port is the last ':' and digits. Matched, not cut at the
    // line's end: a '\r' from a terminal, or the lab peer's ">:" prompt printed by another
    // thread, can come before the '\n'.
    const std::string line = output_.substr(at + prefix.size(), end - at - prefix.size());
    std::string digits;
    static const std::regex port_text(":([0-9]{1,5})");
    for (std::sregex_iterator it(line.begin(), line.end(), port_text), last; it != last; ++it)
        digits = (*it)[1];
    if (digits.empty()) return 0;
    const unsigned long port = std::stoul(digits);
    return port <= 65535 ? static_cast<std::uint16_t>(port) : 0;
}

const std::string& Child::output() {
    pump(0ms);
    return output_;
}

int Child::wait_exit(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!exited_) {
        int st = 0;
        pid_t r = ::waitpid(pid_, &st, WNOHANG);
        if (r == pid_) {
            exited_ = true;
            status_ = st;
            break;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            kill_now();
            return -1;
        }
        pump(20ms);
    }
    // Drain what it printed before exiting (bounded: a grandchild may hold the pipe open).
    for (int i = 0; i < 40 && out_ >= 0; ++i) pump(50ms);
    if (WIFEXITED(status_)) return WEXITSTATUS(status_);
    return 128 + WTERMSIG(status_);
}

void Child::kill_now(int sig) {
    if (exited_) return;
    ::kill(pid_, sig);
    if (sig == SIGKILL) {
        ::waitpid(pid_, &status_, 0);
        exited_ = true;
    }
}

std::size_t count(const std::string& haystack, const std::string& needle) {
    if (needle.empty()) return 0;
    std::size_t n = 0;
    for (auto pos = haystack.find(needle); pos != std::string::npos;
         pos = haystack.find(needle, pos + needle.size()))
        ++n;
    return n;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void write_sparse_file(const fs::path& path, std::uint64_t size) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(size)) != 0) {
        if (fd >= 0) ::close(fd);
        throw std::runtime_error("cannot make sparse file " + path.string());
    }
    ::close(fd);
}

SetLater::SetLater(std::atomic<bool>& flag, std::chrono::milliseconds delay)
    : thread_([&flag, delay] {
          std::this_thread::sleep_for(delay);
          flag.store(true);
      }) {}

SetLater::~SetLater() { thread_.join(); }

}  // namespace p2p::test

namespace p2p::test {

OverlayNode::OverlayNode(const std::vector<std::string>& extra, const fs::path& state) {
    fs::create_directories(dir / "shared");
    std::vector<std::string> argv = {node_binary().string(),
                                     "--state", (state.empty() ? dir / "state" : state).string()};
    if (std::find(extra.begin(), extra.end(), "--shared") == extra.end())
        argv.insert(argv.end(), {"--shared", (dir / "shared").string()});
    if (std::find(extra.begin(), extra.end(), "--port") == extra.end()) argv.insert(argv.end(), {"--port", "0"});
    argv.insert(argv.end(), extra.begin(), extra.end());
    for (std::size_t i = 0; i + 1 < extra.size(); ++i)
        if (extra[i] == "--host") host = extra[i + 1];
    child = std::make_unique<Child>(argv, dir.path());
    port = child->listening_port();
    BOOST_REQUIRE_MESSAGE(port != 0, "node did not start:\n" << child->output());
    // "\n>:": the usage lines hold ">:" too ("connect <peer_id>: ...").
    seen = child->wait_for_at(0, "\n" + node_prompt);
    BOOST_REQUIRE(seen != std::string::npos);
    seen += 1 + node_prompt.size();
}

std::string OverlayNode::id() const {
    return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string OverlayNode::command(const std::string& line, std::chrono::milliseconds timeout) {
    const std::size_t from = seen;
    child->send(line + "\n");
    const std::size_t at = child->wait_for_at(from, "\n" + node_prompt, timeout);
    BOOST_REQUIRE_MESSAGE(at != std::string::npos, "no prompt after " << line << ":\n" << child->output());
    seen = at + 1 + node_prompt.size();
    // Without the indexer's lines: they come from its thread at any time, between any two lines.
    static const std::regex manifest_line("Manifest of .* ready: [0-9]+ chunks?, root [0-9a-f]+\\.\\.\\. \\([0-9.]+ s\\)\\.\n");
    return std::regex_replace(child->output().substr(from, at + 1 - from), manifest_line, "");
}

std::size_t OverlayNode::known() {
    std::smatch m;
    const std::string out = command("peers");
    return std::regex_search(out, m, std::regex("Known peers \\(([0-9]+)\\)")) ? std::stoul(m[1]) : 0;
}

int OverlayNode::quit() {
    child->send("quit\n");
    return child->wait_exit();
}

}  // namespace p2p::test
