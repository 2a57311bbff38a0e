// Test helpers: temporary folders, free ports, files with known bytes, and child processes
// driven through pipes (the program's console, the lab's Python peer).
#pragma once

#include <boost/filesystem.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace p2p::test {

namespace fs = boost::filesystem;
using namespace std::chrono_literals;

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

/// A port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
std::uint16_t free_port();
/// The first of `n` consecutive ports on 127.0.0.1 that were all free a moment ago.
std::uint16_t free_port_run(unsigned n);

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
    /// Reads until `needle` appears in everything read so far after `from` (or timeout).
    bool wait_for(const std::string& needle, std::chrono::milliseconds timeout = 10s);
    /// Waits until `needle` appears at or after offset `from` of the output; its offset, or
    /// std::string::npos on timeout.
    std::size_t wait_for_at(std::size_t from, const std::string& needle,
                            std::chrono::milliseconds timeout = 10s);
    /// Waits for `needle` to appear `count` times in the whole output.
    bool wait_for_count(const std::string& needle, std::size_t count,
                        std::chrono::milliseconds timeout = 10s);
    /// Everything the child printed so far.
    const std::string& output();
    /// Waits for exit; the exit code, or -1 on timeout (the child is then killed), or
    /// 128+signal when killed by a signal.
    int wait_exit(std::chrono::milliseconds timeout = 10s);
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

}  // namespace p2p::test
