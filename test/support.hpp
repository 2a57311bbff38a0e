// Test helpers: temporary folders, ports held by the test, files with known bytes, and child
// processes driven through pipes (the program's console, the lab's Python peer).
#pragma once

#include <boost/filesystem.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace p2p::test {

namespace fs = boost::filesystem;
using namespace std::chrono_literals;

/// How long a test waits for something that normally takes milliseconds: enough for the
/// sanitizer builds on a loaded two-core machine running the suites in parallel. Every wait
/// returns as soon as its condition holds, so this costs nothing when things work.
constexpr std::chrono::milliseconds patience = 30s;
/// The same for a download of tens of MiB, which those builds move and hash several times slower.
constexpr std::chrono::milliseconds big_transfer = 4 * patience;

/// A fresh folder under the system temp dir, removed with everything in it.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const fs::path& path() const { return path_; }
    fs::path operator/(const std::string& name) const { return path_ / name; }

private:
    fs::path path_;
};

/// A port on 127.0.0.1 that was free a moment ago (bound to port 0, then released): only a
/// first guess for a socket the test binds at once. Anything may take it meanwhile, so never
/// give it to a program to bind later: use --port 0, or a HeldPort.
std::uint16_t free_port();

/// What a HeldPort does with its port.
enum class Hold {
    refusing,     ///< bound, not listening: connections are refused, no one else can bind it
    listening,    ///< bound and listening: connections succeed (never accepted)
    for_program,  ///< bound with SO_REUSEADDR, not listening: refused until a program that also
                  ///< sets SO_REUSEADDR (ours does) binds and listens on it; no other listener can
};

/// A TCP port on 127.0.0.1 held by the test for the object's whole life, so no other process
/// can take it between the moment the test picks it and the moment it is used.
class HeldPort {
public:
    /// Holds `port` (0: one the system chooses); held() is false if it could not be bound.
    explicit HeldPort(Hold how, std::uint16_t port = 0);
    ~HeldPort();
    HeldPort(HeldPort&& other) noexcept;
    HeldPort& operator=(HeldPort&&) = delete;
    HeldPort(const HeldPort&) = delete;
    HeldPort& operator=(const HeldPort&) = delete;

    bool held() const { return fd_ >= 0; }
    std::uint16_t port() const { return port_; }

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

/// True when a socket can be bound on ::1 (IPv6 tests skip, saying so, where it cannot).
bool ipv6_loopback_available();

/// Consecutive ports on 127.0.0.1, the i-th held as `how[i]`; throws if no such run is found.
std::vector<HeldPort> hold_port_run(const std::vector<Hold>& how);

/// A run of consecutive ports on 127.0.0.1 that stay silent, as hosts that drop packets do:
/// each listens with a full backlog, so a new SYN is dropped, neither accepted nor refused.
/// Throws if no run of `n` free ports is found.
class SilentPorts {
public:
    explicit SilentPorts(unsigned n);
    ~SilentPorts();
    SilentPorts(const SilentPorts&) = delete;
    SilentPorts& operator=(const SilentPorts&) = delete;
    std::uint16_t first() const { return first_; }
    std::uint16_t last() const { return static_cast<std::uint16_t>(first_ + fds_.size() - 1); }

private:
    /// A connection that takes the backlog's place and is never accepted.
    void fill(std::uint16_t port);
    std::vector<int> fds_, fillers_;
    std::uint16_t first_ = 0;
};

/// Writes `size` pseudo-random bytes derived from `seed`.
void write_file(const fs::path& path, std::uint64_t size, unsigned seed = 1);
std::string read_file(const fs::path& path);
bool same_bytes(const fs::path& a, const fs::path& b);

/// The repository root (from this file's location) and the staged program.
fs::path repo_root();
fs::path node_binary();

/// A child process with its stdin and stdout (stderr merged) on pipes. Killed if still
/// running when destroyed, so no test leaves a process behind.
class Child {
public:
    Child(const std::vector<std::string>& argv, const fs::path& cwd = {});
    ~Child();
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    void send(const std::string& text);
    void close_stdin();
    /// Waits for one more occurrence of `needle` than the output holds now.
    bool wait_for(const std::string& needle, std::chrono::milliseconds timeout = patience);
    /// Waits until `needle` appears at or after offset `from` of the output; its offset, or
    /// std::string::npos on timeout.
    std::size_t wait_for_at(std::size_t from, const std::string& needle,
                            std::chrono::milliseconds timeout = patience);
    /// Waits for `needle` to appear `count` times in the whole output.
    bool wait_for_count(const std::string& needle, std::size_t count,
                        std::chrono::milliseconds timeout = patience);
    /// The port of our program's "Node listening on HOST:PORT" line (how a program started
    /// with --port 0 tells its port); 0 if that line does not come within `timeout`.
    std::uint16_t listening_port(std::chrono::milliseconds timeout = patience);
    /// Everything the child printed so far.
    const std::string& output();
    /// Waits for exit; the exit code, or -1 on timeout (the child is then killed), or
    /// 128+signal when killed by a signal.
    int wait_exit(std::chrono::milliseconds timeout = patience);
    void kill_now(int sig = 9);
    int pid() const { return pid_; }

private:
    void pump(std::chrono::milliseconds timeout);
    int pid_ = -1;
    int in_ = -1, out_ = -1;
    std::string output_;
    bool exited_ = false;
    int status_ = 0;
};

/// Counts occurrences of `needle` in `haystack`.
std::size_t count(const std::string& haystack, const std::string& needle);

/// Seconds elapsed since `t0`.
double seconds_since(std::chrono::steady_clock::time_point t0);

/// A file of `size` zero bytes that uses no disk: reading (hashing) all of it takes long.
void write_sparse_file(const fs::path& path, std::uint64_t size);

/// Sets `flag` after `delay` from a thread of its own (an exit event raised mid-operation);
/// joined on destruction.
class SetLater {
public:
    SetLater(std::atomic<bool>& flag, std::chrono::milliseconds delay);
    ~SetLater();
    SetLater(const SetLater&) = delete;
    SetLater& operator=(const SetLater&) = delete;

private:
    std::thread thread_;
};


/// The console's prompt.
inline const std::string node_prompt = ">:";

/// The lab's usage block, exactly: printed at the start and for help / ? / an empty line.
inline const std::string lab_usage_block =
    "\n"
    "help / ?: Show usage of all commands.\n"
    "scan: Discover active peers. For demonstration, limit the peer_id range from 5000 to 5009.\n"
    "lp: List connected peers.\n"
    "connect <peer_id>: Connect to a peer.\n"
    "disconnect <peer_id>: Disconnect from a peer.\n"
    "sf <filename>: Search for a file on all connected peers.\n"
    "request <filename> <peer_id>: Request a file from a peer.\n"
    "quit: Quit the program.\n"
    "\n";

/// One node of ours (the staged program), started on a port the system chooses, with its own
/// folders: `dir`/shared and `dir`/state.
struct OverlayNode {
    TempDir dir;
    std::unique_ptr<Child> child;
    std::uint16_t port = 0;
    std::string host = "127.0.0.1";  ///< its --host

    /// `extra`: more arguments (--port and --shared allowed); `state`: a state folder instead of
    /// a fresh one.
    explicit OverlayNode(const std::vector<std::string>& extra, const fs::path& state = {});
    std::string id() const;
    /// Runs a console command; what it printed up to the next prompt.
    std::string command(const std::string& line, std::chrono::milliseconds timeout = patience);
    /// How many known peers `peers` lists.
    std::size_t known();
    int quit();
    std::size_t seen = 0;  ///< output offset just after the last prompt a command waited for
};

}  // namespace p2p::test
