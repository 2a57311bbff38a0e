// The DHT (OpenDHT), in process and with real programs on 127.0.0.1: two Dht objects find each
// other's values and stop promptly; two nodes whose only DHT bootstrap is their overlay link
// (the HELLO's dht/1=<port>) find each other's files; a line of nodes that only know each other through the DHT
// (flooding off: --neighbours 0) find and download a file one of them holds, and stop finding
// it once it is removed; a node that quits has its values expire; the stock dhtnode as the only
// bootstrap; python3-opendht reading an
// announcement under the documented key. Cases labelled "slow" (many nodes) run in
// test/run.sh's release pass only.
#define BOOST_TEST_MODULE dht
#include <boost/test/unit_test.hpp>

#include "p2p/dht/dht.hpp"
#include "support.hpp"

#include <boost/filesystem/operations.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace p2p::test;
using Clock = std::chrono::steady_clock;
namespace utf = boost::unit_test;

namespace {

/// The UDP port from "DHT listening on UDP port N (network 0x...)"; 0 if the line is missing.
std::uint16_t dht_port(OverlayNode& n) {
    std::smatch m;
    const std::string out = n.child->output();
    return std::regex_search(out, m, std::regex("DHT listening on UDP port ([0-9]+) \\(network 0x[0-9a-f]{8}\\)"))
               ? static_cast<std::uint16_t>(std::stoul(m[1]))
               : 0;
}

/// Runs `search name` on `n` until `holder` shows as a DHT hit or `within` passes (the
/// announcer publishes every 3 s, and a new node needs a moment to fill its routing table).
bool dht_finds(OverlayNode& n, const std::string& name, const std::string& holder,
               std::chrono::milliseconds within) {
    const auto deadline = Clock::now() + within;
    do {
        if (n.command("search " + name, 3 * patience).find(name + " found on " + holder + " (dht)") != std::string::npos)
            return true;
    } while (Clock::now() < deadline);
    return false;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

bool python_opendht_available() {
    Child probe({"/usr/bin/python3", "-c", "import opendht"});
    return probe.wait_exit(10s) == 0;
}

/// The local addresses (as /proc/net/udp{,6} writes them, hex) of process `pid`'s UDP sockets
/// on `port`: its own only (matched by inode), so another test's socket never counts.
std::vector<std::string> udp_sockets_on(const char* table, std::uint16_t port, int pid = ::getpid()) {
    std::set<std::string> inodes;
    const std::string fds = "/proc/" + std::to_string(pid) + "/fd";
    boost::system::error_code ec;
    for (boost::filesystem::directory_iterator it(fds, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string target = boost::filesystem::read_symlink(it->path(), ec).string();
        if (!ec && target.rfind("socket:[", 0) == 0) inodes.insert(target.substr(8, target.size() - 9));
    }
    char suffix[8];
    std::snprintf(suffix, sizeof suffix, ":%04X", port);
    std::vector<std::string> out;
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the heading
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
        words >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
        if (local.size() > 5 && local.compare(local.size() - 5, 5, suffix) == 0 && inodes.count(inode))
            out.push_back(local.substr(0, local.size() - 5));
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(unit)

// The node gives its --host: the DHT's one socket is there, not on every address.
BOOST_AUTO_TEST_CASE(a_dht_on_a_host_listens_on_that_address_only, *utf::timeout(60)) {
    p2p::Dht dht("127.0.0.1:4");
    p2p::DhtOptions options;
    options.host = "127.0.0.1";
    dht.start(options);
    const auto port = dht.port();
    BOOST_REQUIRE(port != 0);
    BOOST_TEST(udp_sockets_on("/proc/net/udp", port) == std::vector<std::string>{"0100007F"});
    BOOST_TEST(udp_sockets_on("/proc/net/udp6", port).empty());
    dht.stop();

    // IPv6 loopback, where the system has one.
    const int probe = ::socket(AF_INET6, SOCK_DGRAM, 0);
    sockaddr_in6 lo{};
    lo.sin6_family = AF_INET6;
    lo.sin6_addr = in6addr_loopback;
    const bool has_v6 = probe >= 0 && ::bind(probe, reinterpret_cast<sockaddr*>(&lo), sizeof lo) == 0;
    if (probe >= 0) ::close(probe);
    if (!has_v6) {
        BOOST_TEST_MESSAGE("no IPv6 loopback here: the ::1 half is not run");
        return;
    }
    p2p::Dht six("[::1]:4");
    options.host = "::1";
    six.start(options);
    const auto port6 = six.port();
    BOOST_REQUIRE(port6 != 0);
    BOOST_TEST(udp_sockets_on("/proc/net/udp6", port6) ==
               std::vector<std::string>{"00000000000000000000000001000000"});
    BOOST_TEST(udp_sockets_on("/proc/net/udp", port6).empty());
    six.stop();

    p2p::Dht bad("127.0.0.1:5");
    options.host = "not-an-address";
    BOOST_CHECK_THROW(bad.start(options), std::runtime_error);
    BOOST_TEST(!bad.running());
}

BOOST_AUTO_TEST_CASE(network_ids_are_decimal_or_hex_and_never_the_public_zero) {
    std::uint32_t n = 0;
    BOOST_TEST(p2p::parse_dht_network("0x70327031", n));
    BOOST_TEST(n == 0x70327031u);
    BOOST_TEST(p2p::parse_dht_network("42", n));
    BOOST_TEST(n == 42u);
    BOOST_TEST(p2p::parse_dht_network("4294967295", n));
    BOOST_TEST(p2p::parse_dht_network("010", n));  // decimal, not octal
    BOOST_TEST(n == 10u);
    for (const char* bad : {"0", "0x0", "", "-1", "+5", "4294967296", "12abc", "0x", " 7", "0x-5", "0x 5", "0x+5"})
        BOOST_TEST(!p2p::parse_dht_network(bad, n), bad);
    BOOST_TEST(p2p::DhtOptions::default_network != 0u);
    BOOST_TEST(p2p::Dht::file_key("a.txt") == "p2p-node:file:a.txt");
    BOOST_TEST(p2p::Dht::peers_key() == "p2p-node:peers");
}

BOOST_AUTO_TEST_CASE(two_dhts_find_a_value_withdraw_it_and_stop_promptly, *utf::timeout(120)) {
    p2p::Dht a("127.0.0.1:1"), b("127.0.0.1:2");
    a.start({});
    const auto a_port = a.status().port;
    BOOST_REQUIRE(a_port != 0);
    p2p::DhtOptions ob;
    ob.host = "127.0.0.1";  // a listens everywhere, b on loopback only: they still meet
    ob.bootstrap = {"127.0.0.1:" + std::to_string(a_port)};
    b.start(ob);
    BOOST_TEST(b.status().network == p2p::DhtOptions::default_network);

    const std::string key = p2p::Dht::file_key("two.txt");
    a.announce(key, "127.0.0.1:1");
    a.announce(key, "127.0.0.1:1");  // the same again: one value, not two
    BOOST_TEST(a.status().announced == 1u);
    std::atomic<bool> cancel{false};
    std::vector<std::string> got;
    p2p::Dht::LookupStats stats;
    for (const auto deadline = Clock::now() + patience; Clock::now() < deadline && !has(got, "127.0.0.1:1");)
        got = b.lookup(key, 2s, cancel, &stats);
    BOOST_TEST(has(got, "127.0.0.1:1"));
    BOOST_TEST(got.size() == 1u);
    BOOST_TEST(stats.requests >= 1u);  // a get to a, at least
    BOOST_TEST(b.status().requests_sent >= stats.requests);
    BOOST_TEST(stats.first_value_ms >= 0);
    BOOST_TEST(stats.first_value_ms <= stats.ms);
    BOOST_TEST(a.status().requests_answered >= 1u);
    BOOST_TEST(b.status().lookups >= 1u);
    BOOST_TEST(b.status().good_nodes + b.status().dubious_nodes >= 1u);

    a.withdraw(key);
    BOOST_TEST(a.status().announced == 0u);

    // A cancelled lookup returns at once, whatever its timeout.
    cancel = true;
    auto t0 = Clock::now();
    b.lookup(p2p::Dht::file_key("nobody-has-this"), 20s, cancel);
    BOOST_TEST(seconds_since(t0) < 1.0);

    t0 = Clock::now();
    a.stop();
    b.stop();
    b.stop();  // idempotent
    BOOST_TEST(seconds_since(t0) < 3.0);
    BOOST_TEST(!a.running());
}

// OpenDHT runs on without its IPv4 socket when the port is taken; ours refuses to start, so the
// node says "DHT not started" instead of "listening on UDP port 0".
BOOST_AUTO_TEST_CASE(a_taken_udp_port_is_an_error) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    BOOST_REQUIRE(fd >= 0);
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_addr.s_addr = htonl(INADDR_ANY);
    BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&any), sizeof any) == 0);
    socklen_t len = sizeof any;
    BOOST_REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&any), &len) == 0);
    p2p::DhtOptions options;
    options.port = ntohs(any.sin_port);
    p2p::Dht dht("127.0.0.1:3");
    BOOST_CHECK_THROW(dht.start(options), std::runtime_error);
    BOOST_TEST(!dht.running());
    dht.stop();  // nothing to stop: returns at once
    // On one address (the node's --host) OpenDHT throws instead: the same error, and the same
    // object can start again once the port is free.
    options.host = "127.0.0.1";
    try {
        dht.start(options);
        BOOST_ERROR("started on a taken port");
    } catch (const std::runtime_error& e) {
        BOOST_TEST(std::string(e.what()).find("UDP port " + std::to_string(options.port) + " on 127.0.0.1 could not be bound") == 0u,
                   e.what());
    }
    BOOST_TEST(!dht.running());
    ::close(fd);
    dht.start(options);
    BOOST_TEST(dht.running());
    BOOST_TEST(dht.port() == options.port);
    dht.stop();
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(integration)

// No --dht-bootstrap at all: b's only start is its overlay bootstrap, a. The HELLOs of b's link
// to a list each node's UDP port (dht/1=<port>), and each gives the other's to its DHT: a file
// either shares is found by the other through the DHT.
BOOST_AUTO_TEST_CASE(overlay_peers_bootstrap_each_others_dht, *utf::timeout(120)) {
    const auto t0 = Clock::now();
    OverlayNode a({"--dht", "0", "--trace"});
    const auto a_udp = dht_port(a);
    BOOST_REQUIRE(a_udp != 0);
    // On the node's --host (127.0.0.1 here), not on every address.
    BOOST_TEST(udp_sockets_on("/proc/net/udp", a_udp, a.child->pid()) == std::vector<std::string>{"0100007F"});
    BOOST_TEST(udp_sockets_on("/proc/net/udp6", a_udp, a.child->pid()).empty());
    OverlayNode b({"--dht", "0", "--bootstrap", a.id()});
    const auto b_udp = dht_port(b);
    BOOST_REQUIRE(b_udp != 0);
    // Byte for byte, in a's trace: b's HELLO and a's answer.
    for (const std::string& hello : {"b'HELLO " + b.id() + " overlay/1,accept/1,tls/1,dht/1=" + std::to_string(b_udp) + "\\n'",
                                     "b'HELLO " + a.id() + " overlay/1,accept/1,tls/1,dht/1=" + std::to_string(a_udp) + "\\n'"})
        BOOST_TEST(a.child->wait_for_at(0, hello) != std::string::npos, hello);

    write_file(a.dir / "shared" / "via-hello.txt", 1000, 5);
    write_file(b.dir / "shared" / "back.txt", 1000, 6);
    BOOST_TEST(dht_finds(b, "via-hello.txt", a.id(), 20s));
    BOOST_TEST(dht_finds(a, "back.txt", b.id(), 20s));
    BOOST_TEST(a.quit() == 0);
    BOOST_TEST(b.quit() == 0);
    BOOST_TEST_MESSAGE("overlay_peers_bootstrap_each_others_dht: " << seconds_since(t0) << " s");
}

// Thirty nodes in a line, each bootstrapped by UDP from the one before; no overlay links at all.
BOOST_AUTO_TEST_CASE(a_line_of_thirty_finds_downloads_and_forgets_a_file_through_the_dht,
                     *utf::timeout(600) * utf::label("slow")) {
    constexpr int n = 30;
    std::vector<std::unique_ptr<OverlayNode>> nodes;
    for (int i = 0; i < n; ++i) {
        std::vector<std::string> args = {"--neighbours", "0", "--dht", "0"};
        if (i > 0) args.insert(args.end(), {"--dht-bootstrap", "127.0.0.1:" + std::to_string(dht_port(*nodes.back()))});
        nodes.push_back(std::make_unique<OverlayNode>(args));
        BOOST_REQUIRE(dht_port(*nodes.back()) != 0);
    }
    write_file(nodes[0]->dir / "shared" / "needle.bin", 100000, 7);
    const std::string holder = nodes[0]->id();

    BOOST_TEST(dht_finds(*nodes[n - 1], "needle.bin", holder, 60s));
    for (int i = 1; i < n - 1; ++i) BOOST_TEST(dht_finds(*nodes[i], "needle.bin", holder, 30s), "node " << i);

    // `get <filename>` takes its holders from the DHT too.
    const std::string got = nodes[5]->command("get needle.bin", 3 * patience);
    BOOST_TEST(got.find("needle.bin found on " + holder + " (dht)") != std::string::npos, got);
    BOOST_TEST(same_bytes(nodes[0]->dir / "shared" / "needle.bin", nodes[5]->dir / "shared" / "needle.bin"));

    // Presence: a node that only ever had a DHT bootstrap knows the others as peers.
    BOOST_TEST(nodes[n - 1]->known() >= 3u);

    // Removed: the holder withdraws it (only its presence stays announced), and the copy that
    // may still sit in the DHT is never shown: the holder is asked and says no.
    fs::remove(nodes[0]->dir / "shared" / "needle.bin");
    bool withdrawn = false;
    for (const auto deadline = Clock::now() + 30s; !withdrawn && Clock::now() < deadline;) {
        withdrawn = nodes[0]->command("dht").find("Values announced: 1.") != std::string::npos;
        if (!withdrawn) std::this_thread::sleep_for(500ms);
    }
    BOOST_TEST(withdrawn);
    const std::size_t from = nodes[n - 1]->seen;
    // The downloader shares it now, and announces it within a round of its announcer.
    BOOST_TEST(dht_finds(*nodes[n - 1], "needle.bin", nodes[5]->id(), 30s));
    const std::string after = nodes[n - 1]->child->output().substr(from);
    BOOST_TEST(after.find("found on " + holder) == std::string::npos, after);

    // Quitting with the DHT on is prompt.
    const auto t0 = Clock::now();
    for (auto& node : nodes) BOOST_TEST(node->quit() == 0);
    BOOST_TEST(seconds_since(t0) < 2.0 * n);
}

// A node that quits stops refreshing its values, and every DHT node drops its copies within
// --dht-expiry (20 s here). An observer in this process reads the raw values (no holder check).
BOOST_AUTO_TEST_CASE(a_quitting_nodes_values_expire_from_every_dht_node, *utf::timeout(300) * utf::label("slow")) {
    std::vector<std::unique_ptr<OverlayNode>> nodes;
    for (int i = 0; i < 3; ++i) {
        std::vector<std::string> args = {"--neighbours", "0", "--dht", "0", "--dht-expiry", "20"};
        if (i > 0) args.insert(args.end(), {"--dht-bootstrap", "127.0.0.1:" + std::to_string(dht_port(*nodes.back()))});
        nodes.push_back(std::make_unique<OverlayNode>(args));
        BOOST_REQUIRE(dht_port(*nodes.back()) != 0);
    }
    p2p::Dht observer("127.0.0.1:9");
    p2p::DhtOptions options;
    options.expiry = 20s;
    options.unlimited_rates = true;  // as the nodes: all on 127.0.0.1
    options.bootstrap = {"127.0.0.1:" + std::to_string(dht_port(*nodes[2]))};
    observer.start(options);
    write_file(nodes[0]->dir / "shared" / "leaving.txt", 100, 5);
    const std::string leaver = nodes[0]->id(), stayer = nodes[1]->id();
    std::atomic<bool> cancel{false};
    auto announced_by = [&](const std::string& key, const std::string& who) {
        return has(observer.lookup(key, 3s, cancel), who);
    };
    bool seen = false;
    for (const auto deadline = Clock::now() + 60s; !seen && Clock::now() < deadline;)
        seen = announced_by(p2p::Dht::file_key("leaving.txt"), leaver) && announced_by(p2p::Dht::peers_key(), leaver);
    BOOST_REQUIRE(seen);

    BOOST_TEST(nodes[0]->quit() == 0);
    const auto t0 = Clock::now();
    bool gone = false;
    while (!gone && Clock::now() < t0 + 90s) {
        gone = !announced_by(p2p::Dht::file_key("leaving.txt"), leaver) && !announced_by(p2p::Dht::peers_key(), leaver);
        if (!gone) std::this_thread::sleep_for(1s);
    }
    BOOST_TEST(gone);
    BOOST_TEST_MESSAGE("values gone " << seconds_since(t0) << " s after quit");
    // The network still answers: the node that stayed is still present.
    BOOST_TEST(announced_by(p2p::Dht::peers_key(), stayer));
    observer.stop();
    for (int i = 1; i < 3; ++i) BOOST_TEST(nodes[i]->quit() == 0);
}

BOOST_AUTO_TEST_CASE(the_stock_dhtnode_as_the_only_bootstrap, *utf::timeout(300) * utf::label("slow")) {
    if (!fs::exists("/usr/bin/dhtnode")) {
        BOOST_TEST_MESSAGE("skipped: no /usr/bin/dhtnode (apt-get install dhtnode)");
        return;
    }
    Child boot({"/usr/bin/dhtnode", "-p", "0", "-n", std::to_string(p2p::DhtOptions::default_network)});
    BOOST_REQUIRE(boot.wait_for("running on port "));
    std::smatch m;
    const std::string out = boot.output();
    BOOST_REQUIRE(std::regex_search(out, m, std::regex("running on port ([0-9]+)")));
    const std::vector<std::string> args = {"--neighbours", "0", "--dht", "0", "--dht-bootstrap", "127.0.0.1:" + m[1].str()};
    OverlayNode a(args), b(args);
    write_file(a.dir / "shared" / "viaboot.txt", 1000, 3);
    BOOST_TEST(dht_finds(b, "viaboot.txt", a.id(), 60s));
    BOOST_TEST(a.quit() == 0);
    BOOST_TEST(b.quit() == 0);
    boot.close_stdin();  // dhtnode stops at the end of its input
    BOOST_TEST(boot.wait_exit(10s) == 0);
}

BOOST_AUTO_TEST_CASE(python3_opendht_reads_an_announcement_under_the_documented_key, *utf::timeout(180)) {
    if (!python_opendht_available()) {
        BOOST_TEST_MESSAGE("skipped: /usr/bin/python3 cannot import opendht (apt-get install python3-opendht)");
        return;
    }
    OverlayNode a({"--neighbours", "0", "--dht", "0"});
    write_file(a.dir / "shared" / "for-python.txt", 10, 1);
    const auto udp = dht_port(a);
    BOOST_REQUIRE(udp != 0);
    char net[16];
    std::snprintf(net, sizeof net, "0x%08x", static_cast<unsigned>(p2p::DhtOptions::default_network));
    Child reader({"/usr/bin/python3", (repo_root() / "test" / "dht_read.py").string(), "127.0.0.1:" + std::to_string(udp),
                  net, "p2p-node:file:for-python.txt", a.id()});
    BOOST_TEST(reader.wait_exit(60s) == 0, reader.output());
    BOOST_TEST(reader.output().find("FOUND " + a.id()) != std::string::npos, reader.output());
    const auto t0 = Clock::now();
    BOOST_TEST(a.quit() == 0);
    BOOST_TEST(seconds_since(t0) < 3.0);
}

BOOST_AUTO_TEST_SUITE_END()
