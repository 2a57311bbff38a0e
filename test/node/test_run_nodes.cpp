// run_nodes.sh --overlay with the staged program. The script runs as a copy in a folder of its
// own, so its logs/ and its --stop touch nothing of a demo started from the checkout: four
// nodes on a run of ports the test holds, a search from the first finds the file only the last
// one shares, the last one learns of all the others, and --stop leaves no process behind.
#define BOOST_TEST_MODULE run_nodes
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

using namespace p2p::test;
using Clock = std::chrono::steady_clock;
namespace utf = boost::unit_test;

namespace {

/// A copy of run_nodes.sh in a temporary folder, run with the staged program (P2P_NODE:
/// no build) and a tmux socket folder of its own (its --stop cannot end a real demo's session).
struct Script {
    TempDir dir;
    Script() { fs::copy_file(repo_root() / "run_nodes.sh", dir / "run_nodes.sh"); }

    /// Runs the script with `args`; its exit code (-1: still running after `timeout`, killed).
    int run(const std::vector<std::string>& args, std::string& out,
            std::chrono::milliseconds timeout = patience) const {
        std::vector<std::string> argv = {"env", "-u", "TMUX", "TMUX_TMPDIR=" + dir.path().string(),
                                         "P2P_NODE=" + node_binary().string(), "bash",
                                         (dir / "run_nodes.sh").string()};
        argv.insert(argv.end(), args.begin(), args.end());
        Child child(argv, dir.path());
        const int code = child.wait_exit(timeout);
        out = child.output();
        return code;
    }
    /// A file of the overlay's folder, logs/overlay.
    fs::path overlay(const std::string& name) const { return dir / "logs" / "overlay" / name; }
};

/// Is `pid` a live process? (a zombie waiting for its parent has ended)
bool running(int pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return false;
    const auto paren = line.rfind(')');
    return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'Z';
}

/// The pid in a pid file the script wrote; 0 when there is none.
int pid_in(const fs::path& file) {
    std::ifstream in(file.string());
    int pid = 0;
    return in >> pid ? pid : 0;
}

/// Types `line` into a node's named pipe; false when nothing holds the pipe open any more.
bool type_into(const fs::path& fifo, const std::string& line) {
    const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return false;
    const std::string text = line + "\n";
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    return ok;
}

/// Waits until `needle` occurs `n` times in the file, polling until `deadline`.
bool file_shows(const fs::path& file, const std::string& needle, std::size_t n, Clock::time_point deadline) {
    while (count(read_file(file), needle) < n) {
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(100ms);
    }
    return true;
}

/// Runs `command` on the node whose log is `log` until `done(log text)` holds or `deadline`
/// passes; each run waits for the node's answer, whose first line contains `answer`.
template <class Done>
bool repeat_until(const Script& s, std::uint16_t port, const std::string& command,
                  const std::string& answer, Done done, Clock::time_point deadline) {
    const fs::path fifo = s.overlay(std::to_string(port) + ".in");
    const fs::path log = s.overlay(std::to_string(port) + ".log");
    for (std::size_t runs = count(read_file(log), answer) + 1;; ++runs) {
        if (!type_into(fifo, command) || !file_shows(log, answer, runs, deadline)) return false;
        if (done(read_file(log))) return true;
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(500ms);
    }
}

/// The count in the last "Known peers (N)" line of a log; 0 when there is none.
std::size_t last_known_count(const std::string& log) {
    std::size_t n = 0;
    const std::regex known("Known peers \\(([0-9]+)\\)");
    for (std::sregex_iterator it(log.begin(), log.end(), known), end; it != end; ++it) n = std::stoul((*it)[1]);
    return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(integration)

BOOST_AUTO_TEST_CASE(an_overlay_of_four_starts_finds_a_far_file_and_stops, *utf::timeout(120)) {
    constexpr int n = 4;
    // Held until the test ends: nothing else can take them, and the nodes (SO_REUSEADDR) can.
    const std::vector<HeldPort> held = hold_port_run(std::vector<Hold>(n, Hold::for_program));
    std::vector<std::uint16_t> ports;
    for (const auto& h : held) ports.push_back(h.port());
    const std::uint16_t first = ports.front(), last = ports.back();

    Script script;
    std::vector<int> pids;  // nodes and pipe holders
    struct Cleanup {        // whatever fails: --stop, then SIGKILL to what still runs
        const Script& script;
        std::vector<int>& pids;
        ~Cleanup() {
            try {
                std::string ignored;
                script.run({"--stop"}, ignored, 20s);
            } catch (...) {}
            for (int pid : pids) if (running(pid)) ::kill(pid, SIGKILL);
        }
    } cleanup{script, pids};

    std::string out;
    const int started = script.run({"--overlay", std::to_string(n), "--base-port", std::to_string(first)}, out, 20s);
    for (std::uint16_t p : ports) {
        for (const char* kind : {".pid", ".holder.pid"}) {
            if (const int pid = pid_in(script.overlay(std::to_string(p) + kind))) pids.push_back(pid);
        }
    }
    BOOST_REQUIRE_MESSAGE(started == 0, "--overlay failed (" << started << "):\n" << out);
    BOOST_TEST(out.find("Overlay nodes " + std::to_string(first) + "-" + std::to_string(last)) != std::string::npos, out);
    BOOST_TEST(pids.size() == 2u * n);
    for (std::uint16_t p : ports) {
        BOOST_TEST(read_file(script.overlay("shared/" + std::to_string(p) + "/file-" + std::to_string(p) + ".txt")) != "");
    }

    // Each node knows only the one before it; the links and then gossip join them all.
    const auto deadline = Clock::now() + 20s;
    const std::string hit = "far.txt found on 127.0.0.1:" + std::to_string(last);
    BOOST_TEST(repeat_until(script, first, "search far.txt", "Search for far.txt:",
                            [&](const std::string& log) { return log.find(hit) != std::string::npos; }, deadline),
               read_file(script.overlay(std::to_string(first) + ".log")));
    BOOST_TEST(repeat_until(script, last, "peers", "Known peers (",
                            [](const std::string& log) { return last_known_count(log) >= n - 1; }, deadline),
               read_file(script.overlay(std::to_string(last) + ".log")));

    const int stopped = script.run({"--stop"}, out, 20s);
    BOOST_TEST(stopped == 0, out);
    BOOST_TEST(out.find("stopped detached node(s)") != std::string::npos, out);
    for (int pid : pids) BOOST_TEST(!running(pid), "process " << pid << " still runs after --stop");
    BOOST_TEST(!fs::exists(script.overlay(std::to_string(first) + ".in")));

    BOOST_TEST(script.run({"--stop"}, out, 20s) == 0, out);  // again: nothing to stop, no error
    BOOST_TEST(out.find("nothing to stop") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(bad_overlay_options_are_refused_and_start_nothing, *utf::timeout(60)) {
    Script script;
    std::string out;
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"--overlay"}, {"--overlay", "1"}, {"--overlay", "51"}, {"--overlay", "x"},
             {"--overlay", "3", "--base-port", "80"}, {"--overlay", "3", "--base-port", "65534"},
             {"--base-port", "6000"}, {"--overlay", "3", "--detach"}, {"--overlay", "3", "--reset"}}) {
        BOOST_TEST(script.run(args, out) == 2, args.front() << " ... : " << out);
        BOOST_TEST(out.find("run_nodes.sh: ") != std::string::npos, out);
    }
    BOOST_TEST(!fs::exists(script.dir / "logs"));
}

BOOST_AUTO_TEST_SUITE_END()
