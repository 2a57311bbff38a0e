// Never hang, never lie: the program exits promptly with a stdout nobody reads, signals reach
// only the main thread, Ctrl-C during a scan reports only what was probed, and a node that
// stops while hashing for XREQ closes the connection instead of answering falsely.
#define BOOST_TEST_MODULE shutdown
#include <boost/test/unit_test.hpp>

#include "p2p/node/node.hpp"
#include "p2p/util/output.hpp"
#include "p2p/lab/protocol.hpp"
#include "p2p/net/socket.hpp"
#include "p2p/lab/transfer.hpp"
#include "support.hpp"

#include <csignal>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>
#include <unistd.h>

using namespace p2p;
using namespace p2p::test;
using Clock = std::chrono::steady_clock;

namespace {

/// Connects to our node, sends `request` and reads `n` bytes of answer ("" if they never come).
std::string ask(std::uint16_t port, const std::string& request, std::size_t n) {
    std::error_code ec;
    Socket s = Socket::connect("127.0.0.1", port, patience, ec);
    if (ec) return "";
    s.write_all(request, ec);
    std::string answer(n, '\0');
    if (ec || read_exact(s, answer.data(), n, {patience, nullptr}) != ReadStatus::ok) return "";
    return answer;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Waits until process `pid` has exited (a zombie, not yet reaped) without reading its output,
/// which would unblock a writer stalled on a full pipe.
bool exited_within(int pid, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
        const std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
        auto close = stat.rfind(')');  // "pid (comm) S ...": the state follows the name
        if (close == std::string::npos || stat.compare(close + 2, 1, "Z") == 0) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

/// Every thread of `pid`: name -> whether SIGINT and SIGTERM are both blocked in it.
std::multimap<std::string, bool> thread_signal_masks(int pid, bool& main_blocks_any) {
    std::multimap<std::string, bool> threads;
    const std::string task = "/proc/" + std::to_string(pid) + "/task";
    for (const auto& entry : fs::directory_iterator(task)) {
        std::string comm = slurp((entry.path() / "comm").string());
        if (!comm.empty() && comm.back() == '\n') comm.pop_back();
        std::istringstream status(slurp((entry.path() / "status").string()));
        unsigned long long blocked = 0;
        for (std::string line; std::getline(status, line);)
            if (line.rfind("SigBlk:", 0) == 0) blocked = std::stoull(line.substr(7), nullptr, 16);
        const unsigned long long both = (1ull << (SIGINT - 1)) | (1ull << (SIGTERM - 1));
        if (entry.path().filename().string() == std::to_string(pid))
            main_blocks_any = (blocked & both) != 0;
        else
            threads.emplace(comm, (blocked & both) == both);
    }
    return threads;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(integration)

// A script that stopped reading, a terminal paused with Ctrl-S: handler threads used to block
// on the console, every other handler behind them, and SIGTERM then waited forever.
BOOST_AUTO_TEST_CASE(sigterm_ends_a_node_whose_stdout_nobody_reads) {
    TempDir dir;
    write_file(dir / "f.bin", 1000, 3);
    Child node({node_binary().string(), "--port", "0", "--shared", dir.path().string()}, dir.path());
    const std::uint16_t port = node.listening_port();
    BOOST_REQUIRE(port != 0);
    // From here on nobody reads the program's output. Long names make long log lines:
    // 200 requests print far more than the pipe holds.
    const std::string name(250, 'n');
    const std::string not_found = protocol::format_search_answer(false, name);
    for (int i = 0; i < 200; ++i)
        BOOST_REQUIRE_MESSAGE(ask(port, "SRCH " + name + "\n", not_found.size()) == not_found,
                              "request " << i << " was not answered");
    // A peer that connects now is still served, whole.
    const std::string reply = ask(port, "REQ f.bin\n", 44 + 1000);
    BOOST_TEST(reply.substr(0, 40) == protocol::format_status_field(true, "f.bin"));
    BOOST_TEST(reply.substr(44) == read_file(dir / "f.bin"));

    const auto t0 = Clock::now();
    ::kill(node.pid(), SIGTERM);
    BOOST_TEST(exited_within(node.pid(), std::chrono::seconds(3)));
    BOOST_TEST_MESSAGE("exited " << seconds_since(t0) << " s after SIGTERM");
    BOOST_TEST(node.wait_exit() == 0);
    // The pipe really was full: not every line reached it.
    BOOST_TEST(count(node.output(), "Response to peer") < 201u);
}

// With the DHT on: OpenDHT's own threads (unnamed: they carry the program's name) too.
BOOST_AUTO_TEST_CASE(signals_reach_the_main_thread_only) {
    TempDir dir;
    Child node({node_binary().string(), "--port", "0", "--shared", dir.path().string(), "--dht", "0"}, dir.path());
    const std::uint16_t port = node.listening_port();
    BOOST_REQUIRE(port != 0);
    BOOST_REQUIRE(node.wait_for_at(0, "DHT listening on UDP port") != std::string::npos);
    std::error_code ec;
    Socket peer = Socket::connect("127.0.0.1", port, patience, ec);  // a session thread
    BOOST_REQUIRE(!ec);
    peer.write_all("SRCH x\n", ec);
    std::string answer(16, '\0');
    BOOST_REQUIRE(read_exact(peer, answer.data(), answer.size(), {patience, nullptr}) == ReadStatus::ok);

    bool main_blocks = true;
    const auto threads = thread_signal_masks(node.pid(), main_blocks);
    BOOST_TEST(!main_blocks);
    for (const char* role : {"p2p:listener", "p2p:output", "p2p:session", "p2p:dht"})
        BOOST_TEST(threads.count(role) == 1u, "no thread " << role);
    BOOST_TEST(threads.count("p2p-node") >= 2u, "OpenDHT's network and scheduler threads");
    for (const auto& [name, blocked] : threads) BOOST_TEST(blocked, name << " takes SIGINT or SIGTERM");
    peer.close();
    node.send("quit\n");
    BOOST_TEST(node.wait_exit() == 0);
}

// Ctrl-C during a scan of hosts that drop packets: the scan ends at once and says so; ports
// it never finished probing are not reported as inactive.
BOOST_AUTO_TEST_CASE(ctrl_c_during_a_scan_reports_only_the_probed_ports) {
    TempDir dir;
    SilentPorts silent(66);  // two batches of probes
    const std::string range = std::to_string(silent.first()) + "-" + std::to_string(silent.last());
    Child node({node_binary().string(), "--port", "0", "--shared", dir.path().string(),
                "--scan-range", range}, dir.path());
    BOOST_REQUIRE(node.listening_port() != 0);
    BOOST_REQUIRE(node.wait_for_at(0, ">:") != std::string::npos);
    node.send("scan\n");
    BOOST_REQUIRE(node.wait_for("Discover active peers:"));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // probes in flight
    const auto t0 = Clock::now();
    ::kill(node.pid(), SIGINT);
    BOOST_TEST(node.wait_for("Scan interrupted."));
    BOOST_TEST(node.wait_exit() == 0);
    BOOST_TEST(seconds_since(t0) < 10.0);
    const std::string out = node.output();
    BOOST_TEST(out.find("All sockets closed. Exiting program.") != std::string::npos);
    // At most the first batch can have timed out (inactive, truthfully) before the signal.
    BOOST_TEST(count(out, " is inactive.") < 66u);
    BOOST_TEST(count(out, " is active.") == 0u);
}

// The probe's connect itself gives up on the exit event: not only the batches after it.
BOOST_AUTO_TEST_CASE(a_connect_to_a_silent_host_ends_on_cancel) {
    SilentPorts silent(1);
    std::atomic<bool> cancel{false};
    SetLater interrupt(cancel, std::chrono::milliseconds(200));
    const auto t0 = Clock::now();
    std::error_code ec;
    Socket s = Socket::connect("127.0.0.1", silent.first(), std::chrono::seconds(60), ec, &cancel);
    BOOST_TEST((ec == std::errc::operation_canceled), ec.message());
    BOOST_TEST(seconds_since(t0) < 10.0);  // not the 60 s timeout
}

// In-process: stop() while a session streams a huge file that has no manifest yet (261: it
// hashes as it sends). The stream is cut at once, and no digest follows: the requester sees a
// vanished peer, which is the truth, never a digest of part of the file.
BOOST_AUTO_TEST_CASE(stop_during_a_261_stream_cuts_it_without_a_digest) {
    TempDir dir;
    write_sparse_file(dir / "huge.bin", 64ull << 30);  // hashing it takes minutes
    std::ostringstream log;
    Output out(log, false, false);
    NodeConfig config;
    config.shared_dir = dir.path();
    Node node(config, out);
    std::error_code ec;
    node.start(ec);
    BOOST_REQUIRE(!ec);
    Socket peer = Socket::connect("127.0.0.1", node.port(), patience, ec);
    BOOST_REQUIRE(!ec);
    peer.write_all("XREQ huge.bin 0\n", ec);
    BOOST_REQUIRE(!ec);
    std::string line;
    BOOST_REQUIRE((read_line(peer, line, 64, {patience, nullptr}) == ReadStatus::ok));
    BOOST_TEST(line == "261 " + std::to_string(64ull << 30) + "\n");
    // We read nothing more: the session blocks in send with full socket buffers.
    const auto t0 = Clock::now();
    node.stop();
    BOOST_TEST(seconds_since(t0) < 10.0);
    std::uint64_t got = 0;
    std::string piece;
    while (read_more(peer, piece, 1 << 16, {patience, nullptr}) == ReadStatus::ok && got < (1ull << 32)) {
        got += piece.size();
        piece.clear();
    }
    BOOST_TEST(got < (64ull << 30));
}

BOOST_AUTO_TEST_SUITE_END()
