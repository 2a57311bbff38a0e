// p2p::Node in-process with real sockets on 127.0.0.1 (and ::1): node to node (search, request, peers that
// vanish, shutdown), many clients at once, and the raw wire bytes a peer sees (names that would
// leave the shared folder, framing, errors, limits).
#define BOOST_TEST_MODULE node
#include <boost/test/unit_test.hpp>

#include "p2p/lab/client.hpp"
#include "p2p/node/node.hpp"
#include "p2p/util/output.hpp"
#include "p2p/lab/protocol.hpp"
#include "support.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace p2p::test;
using namespace std::string_literals;
namespace pr = p2p::protocol;
using Clock = std::chrono::steady_clock;
using K = p2p::DownloadOutcome::Kind;

namespace {

constexpr std::uint64_t MiB = 1024 * 1024;

/// A started node sharing a fresh folder; its output goes to a string, read after stop().
struct TestNode {
    explicit TestNode(p2p::NodeConfig config = {}) {
        config.port = 0;
        config.shared_dir = dir.path();
        node = std::make_unique<p2p::Node>(config, out);
        std::error_code ec;
        node->start(ec);
        BOOST_REQUIRE_MESSAGE(!ec, "node did not start: " << ec.message());
    }
    ~TestNode() { node->stop(); }

    std::uint16_t port() const { return node->port(); }
    p2p::PeerId id() const { return node->id(); }
    fs::path operator/(const std::string& name) const { return dir / name; }
    /// Stops the node (Output is written from its threads until then) and returns its output.
    std::string log() {
        node->stop();
        return text.str();
    }
    p2p::Node* operator->() { return node.get(); }

    TempDir dir;
    std::ostringstream text;
    p2p::Output out{text, false, false};
    std::unique_ptr<p2p::Node> node;  // last: stopped before the output it writes to goes away
};

/// Peers on 127.0.0.1 (where every TestNode listens unless told otherwise), in this order.
std::vector<p2p::PeerId> local(const std::vector<std::uint16_t>& ports) {
    std::vector<p2p::PeerId> out;
    for (auto p : ports) out.push_back({"127.0.0.1", p});
    return out;
}

/// Waits (bounded) until `pred` holds.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = patience) {
    auto deadline = Clock::now() + timeout;
    while (!pred()) {
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

// ---- a raw peer: plain bytes on a p2p::Socket ----

p2p::Socket raw_connect(std::uint16_t port) {
    std::error_code ec;
    p2p::Socket s = p2p::Socket::connect("127.0.0.1", port, patience, ec);
    BOOST_REQUIRE_MESSAGE(!ec, "connect to " << port << " failed: " << ec.message());
    return s;
}

void send_raw(p2p::Socket& s, const std::string& bytes) {
    std::error_code ec;
    s.write_all(bytes, ec);
    BOOST_REQUIRE_MESSAGE(!ec, "send failed: " << ec.message());
}

/// Reads until `n` bytes arrived, the peer closed, or `timeout` passed; returns what arrived.
std::string read_n(p2p::Socket& s, std::size_t n, std::chrono::milliseconds timeout = patience) {
    std::string got;
    auto deadline = Clock::now() + timeout;
    char buf[65536];
    while (got.size() < n) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0 || s.wait_readable(left) != p2p::Wait::ready) break;
        std::error_code ec;
        std::size_t k = s.read_some(buf, std::min(sizeof buf, n - got.size()), ec);
        if (ec || k == 0) break;
        got.append(buf, k);
    }
    return got;
}

/// True when the peer closes the connection within `timeout` (bytes before the close go to
/// `rest`). A reset counts as closed.
bool closed_within(p2p::Socket& s, std::chrono::milliseconds timeout, std::string* rest = nullptr) {
    auto deadline = Clock::now() + timeout;
    char buf[65536];
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0 || s.wait_readable(left) != p2p::Wait::ready) return false;
        std::error_code ec;
        std::size_t k = s.read_some(buf, sizeof buf, ec);
        if (ec || k == 0) return true;
        if (rest) rest->append(buf, k);
    }
}

/// Sends `request` and returns exactly as many bytes as `expected` has (fewer on close/timeout).
std::string ask(p2p::Socket& s, const std::string& request, const std::string& expected) {
    send_raw(s, request);
    return read_n(s, expected.size());
}

std::string req_found(const std::string& name, const std::string& body) {
    auto len = pr::encode_length(static_cast<std::uint32_t>(body.size()));
    return pr::format_status_field(true, name) + std::string(len.data(), len.size()) + body;
}

std::string req_not_found(const std::string& name) { return pr::format_status_field(false, name); }

p2p::ReadLimits limits() { return {patience, nullptr}; }

}  // namespace

// ============================================================================================
BOOST_AUTO_TEST_SUITE(peers)

BOOST_AUTO_TEST_CASE(connect_to_a_port_nobody_listens_on_is_inactive) {
    TestNode a;
    const HeldPort nobody(Hold::refusing);  // bound, never listening: refused, and no one else's
    BOOST_REQUIRE(nobody.held());
    BOOST_TEST((a->connect({"127.0.0.1", nobody.port()}) == p2p::Node::ConnectResult::inactive));
    BOOST_TEST(a->connected_peers().empty());
}

BOOST_AUTO_TEST_CASE(connect_twice_is_already_connected) {
    TestNode a, b;
    BOOST_TEST((a->connect(b.id()) == p2p::Node::ConnectResult::connected));
    BOOST_TEST((a->connect(b.id()) == p2p::Node::ConnectResult::already_connected));
    BOOST_TEST(a->connected_peers() == local({b.port()}));
}

BOOST_AUTO_TEST_CASE(disconnect_unknown_is_false_and_known_is_true_once) {
    TestNode a, b;
    BOOST_TEST(!a->disconnect(b.id()));
    BOOST_REQUIRE((a->connect(b.id()) == p2p::Node::ConnectResult::connected));
    BOOST_TEST(a->disconnect(b.id()));
    BOOST_TEST(!a->disconnect(b.id()));
    BOOST_TEST(a->connected_peers().empty());
}

BOOST_AUTO_TEST_CASE(connected_peers_keep_the_order_of_connect) {
    TestNode a, b, c, d;
    for (auto* n : {&d, &b, &c})
        BOOST_REQUIRE((a->connect(n->id()) == p2p::Node::ConnectResult::connected));
    BOOST_TEST(a->connected_peers() == local({d.port(), b.port(), c.port()}));
}

BOOST_AUTO_TEST_CASE(connect_by_host_and_port) {
    TestNode a, b;
    BOOST_TEST((a->connect(p2p::PeerId{"127.0.0.1", b.port()}) == p2p::Node::ConnectResult::connected));
    BOOST_TEST(a->is_connected(b.id()));
    BOOST_TEST((a->id() == p2p::PeerId{"127.0.0.1", a.port()}));
    BOOST_TEST(a->connected_peers() == local({b.port()}));
}

BOOST_AUTO_TEST_CASE(ipv6_connect_search_request_on_loopback) {
    if (!ipv6_loopback_available()) {
        BOOST_TEST_MESSAGE("skipped: ::1 cannot be bound on this machine");
        return;
    }
    p2p::NodeConfig v6;
    v6.host = "0:0::1";  // any spelling; the node keeps the canonical one
    TestNode a, b(v6);
    BOOST_TEST(b->config().host == "::1");
    BOOST_TEST((b.id() == p2p::PeerId{"::1", b.port()}));
    write_file(b / "f.bin", 70000, 9);
    BOOST_TEST((a->connect(b.id()) == p2p::Node::ConnectResult::connected));
    BOOST_TEST((a->connect(b.id()) == p2p::Node::ConnectResult::already_connected));
    BOOST_TEST((a->connected_peers() == std::vector<p2p::PeerId>{b.id()}));
    BOOST_TEST((a->search(b.id(), "f.bin") == p2p::SearchOutcome::found));
    BOOST_TEST((a->search(b.id(), "g.bin") == p2p::SearchOutcome::not_found));
    auto r = a->request(b.id(), "f.bin", false, {});
    BOOST_REQUIRE(r);
    BOOST_TEST((r->kind == K::saved));
    BOOST_TEST(r->verified);  // the extension works over IPv6 too
    BOOST_TEST(same_bytes(a / "f.bin", b / "f.bin"));
    // A v6 node reaches a v4 one, and its listener takes only ::1 (IPV6_V6ONLY).
    BOOST_TEST((b->connect(a.id()) == p2p::Node::ConnectResult::connected));
    BOOST_TEST(a->disconnect(b.id()));
    BOOST_TEST(!a->is_connected(b.id()));
    const std::string log = b.log();
    BOOST_TEST(log.find("Node listening on [::1]:" + std::to_string(b.port())) != std::string::npos);
    BOOST_TEST(log.find("Connection established with peer ") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(ipv6_listener_takes_exactly_its_address) {
    if (!ipv6_loopback_available()) {
        BOOST_TEST_MESSAGE("skipped: ::1 cannot be bound on this machine");
        return;
    }
    std::error_code ec;
    p2p::Socket v6 = p2p::Socket::listen("::1", 0, ec);
    BOOST_REQUIRE(!ec);
    // IPV6_V6ONLY: never IPv4 too, whatever the system's default (net.ipv6.bindv6only).
    int v6only = 0;
    socklen_t len = sizeof v6only;
    BOOST_REQUIRE(::getsockopt(v6.native_handle(), IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len) == 0);
    BOOST_TEST(v6only == 1);
    std::uint16_t peer_port = 0;
    p2p::Socket c = p2p::Socket::connect("::1", v6.local_port(), patience, ec);
    BOOST_REQUIRE(!ec);
    p2p::Socket accepted = v6.accept(peer_port, ec);
    BOOST_TEST(!ec);
    BOOST_TEST(peer_port == c.local_port());
}

BOOST_AUTO_TEST_CASE(scan_of_ids_in_order_without_our_own) {
    TestNode a, b;
    const HeldPort refusing(Hold::refusing);
    BOOST_REQUIRE(refusing.held());
    std::vector<p2p::PeerId> targets = local({refusing.port(), a.port(), b.port()});
    if (ipv6_loopback_available()) targets.push_back({"::1", b.port()});  // b is on 127.0.0.1 only
    const p2p::ScanResult r = a->scan(targets);
    BOOST_REQUIRE(r.probed.size() == targets.size() - 1);
    BOOST_TEST((r.probed[0] == std::make_pair(targets[0], false)));
    BOOST_TEST((r.probed[1] == std::make_pair(targets[2], true)));
    if (targets.size() == 4) BOOST_TEST((r.probed[2] == std::make_pair(targets[3], false)));
    BOOST_TEST(r.not_scanned == 0u);
    BOOST_TEST(!r.interrupted);
    BOOST_TEST(a->connected_peers().empty());  // a scan does not connect
}

BOOST_AUTO_TEST_SUITE_END()

// ============================================================================================
BOOST_AUTO_TEST_SUITE(search_and_request)

BOOST_AUTO_TEST_CASE(between_two_nodes) {
    TestNode a, b;
    write_file(b / "SkyShip.jpg", 85021, 7);
    BOOST_REQUIRE((a->connect(b.id()) == p2p::Node::ConnectResult::connected));

    BOOST_TEST((a->search(b.id(), "SkyShip.jpg") == p2p::SearchOutcome::found));
    BOOST_TEST((a->search(b.id(), "SkyPalace.jpg") == p2p::SearchOutcome::not_found));

    auto r = a->request(b.id(), "SkyPalace.jpg", false, {});
    BOOST_REQUIRE(r);
    BOOST_TEST((r->kind == K::not_found));
    BOOST_TEST(!fs::exists(a / "SkyPalace.jpg"));

    r = a->request(b.id(), "SkyShip.jpg", false, {});
    BOOST_REQUIRE(r);
    BOOST_TEST((r->kind == K::saved));
    BOOST_TEST(r->bytes == 85021u);
    BOOST_TEST(r->expected == 85021u);
    BOOST_TEST(same_bytes(a / "SkyShip.jpg", b / "SkyShip.jpg"));
    BOOST_TEST(!fs::exists(a / "SkyShip.jpg.part"));
    // The connection is still in step after a transfer.
    BOOST_TEST((a->search(b.id(), "SkyShip.jpg") == p2p::SearchOutcome::found));
    BOOST_TEST(a->connected_peers() == local({b.port()}));

    const std::string log = b.log();
    BOOST_TEST(log.find("Node listening on 127.0.0.1:" + std::to_string(b.port())) != std::string::npos);
    BOOST_TEST(log.find("Connection established with peer ") != std::string::npos);
    BOOST_TEST(log.find("b'SRCH SkyShip.jpg'") != std::string::npos);
    BOOST_TEST(log.find(":  150 SkyShip.jpg found.") != std::string::npos);
    BOOST_TEST(log.find(":  450 SkyPalace.jpg not found.") != std::string::npos);
    // Our two nodes negotiated the extension: REQ became XREQ, answered 560 / 260 (the
    // indexer had hashed it) or 261 (not yet: the digest after the data).
    BOOST_TEST(log.find("b'XREQ SkyShip.jpg 0'") != std::string::npos);
    BOOST_TEST(log.find(":  560 SkyPalace.jpg not found.") != std::string::npos);
    BOOST_TEST((log.find(":  260 SkyShip.jpg found. Length in bytes: 85021, SHA-256 ") != std::string::npos ||
                log.find(":  261 SkyShip.jpg found. Length in bytes: 85021, SHA-256 after the data") != std::string::npos));
}

BOOST_AUTO_TEST_CASE(a_downloaded_file_gets_a_manifest_kept_in_the_state_folder) {
    TempDir state;
    p2p::NodeConfig config;
    config.state_dir = state.path();
    TestNode a(config), b;
    write_file(b / "SkyShip.jpg", 85021, 7);
    BOOST_REQUIRE((a->connect(b.id()) == p2p::Node::ConnectResult::connected));
    const auto r = a->request(b.id(), "SkyShip.jpg", false, {});
    BOOST_REQUIRE((r && r->kind == K::saved));
    BOOST_REQUIRE(a->indexer());
    BOOST_REQUIRE(a->indexer()->wait_idle(patience));
    const auto file = a->files().open("SkyShip.jpg");
    BOOST_REQUIRE(file);
    const auto manifest = a->indexer()->find(*file);
    BOOST_REQUIRE(manifest);
    BOOST_TEST(manifest->size == 85021u);
    BOOST_TEST(fs::exists(state / "manifests" / p2p::FileVersion::of(file->fd())->name()));
}

BOOST_AUTO_TEST_CASE(stop_does_not_wait_for_the_indexer_hashing_a_huge_file) {
    TempDir shared;
    write_sparse_file(shared / "huge.bin", 16ull << 30);  // zeros, no disk; seconds to hash
    std::ostringstream text;
    p2p::Output out{text, false, false};
    p2p::NodeConfig config;
    config.shared_dir = shared.path();
    p2p::Node node(config, out);
    BOOST_TEST(!node.indexer());
    std::error_code ec;
    node.start(ec);
    BOOST_REQUIRE(!ec);
    BOOST_TEST(node.port() != 0);  // listening at once, whatever the folder holds
    std::this_thread::sleep_for(300ms);
    const auto t0 = Clock::now();
    node.stop();
    BOOST_TEST(seconds_since(t0) < 2.0);
    BOOST_TEST(node.indexer()->status().hashed_files == 0u);
}

BOOST_AUTO_TEST_CASE(among_four_nodes_found_on_some_not_on_others) {
    TestNode a, b, c, d;
    write_file(b / "SkyShip.jpg", 85021, 3);
    write_file(d / "SkyShip.jpg", 85021, 3);  // same bytes on two peers
    write_file(c / "other.txt", 10, 4);
    write_file(d / "empty.txt", 0);
    for (auto* n : {&b, &c, &d})
        BOOST_REQUIRE((a->connect(n->id()) == p2p::Node::ConnectResult::connected));

    BOOST_TEST((a->search(b.id(), "SkyShip.jpg") == p2p::SearchOutcome::found));
    BOOST_TEST((a->search(c.id(), "SkyShip.jpg") == p2p::SearchOutcome::not_found));
    BOOST_TEST((a->search(d.id(), "SkyShip.jpg") == p2p::SearchOutcome::found));
    BOOST_TEST((a->search(c.id(), "other.txt") == p2p::SearchOutcome::found));
    BOOST_TEST((a->search(b.id(), "other.txt") == p2p::SearchOutcome::not_found));

    auto r = a->request(c.id(), "SkyShip.jpg", false, {});
    BOOST_REQUIRE(r);
    BOOST_TEST((r->kind == K::not_found));
    r = a->request(d.id(), "SkyShip.jpg", false, {});
    BOOST_REQUIRE(r);
    BOOST_TEST((r->kind == K::saved));
    BOOST_TEST(same_bytes(a / "SkyShip.jpg", d / "SkyShip.jpg"));
    // Already here: kept without a transfer, and B is still usable afterwards.
    r = a->request(b.id(), "SkyShip.jpg", false, {});
    BOOST_REQUIRE(r);
    BOOST_TEST((r->kind == K::exists));
    r = a->request(d.id(), "empty.txt", false, {});
    BOOST_REQUIRE(r);
    BOOST_TEST((r->kind == K::saved));
    BOOST_TEST(r->bytes == 0u);
    BOOST_TEST(fs::exists(a / "empty.txt"));
    BOOST_TEST(fs::file_size(a / "empty.txt") == 0u);
    BOOST_TEST(a->connected_peers() == local({b.port(), c.port(), d.port()}));
}

BOOST_AUTO_TEST_CASE(multi_mib_file_is_byte_identical_and_streamed) {
    TestNode a, b;
    const std::uint64_t size = 12 * MiB + 12345;
    write_file(b / "big.bin", size, 11);
    BOOST_REQUIRE((a->connect(b.id()) == p2p::Node::ConnectResult::connected));

    // Each progress call: the bytes received so far, and what the .part file on disk holds then.
    std::vector<std::uint64_t> seen, on_disk;
    std::uint64_t announced = 0;
    auto r = a->request(b.id(), "big.bin", false, [&](std::uint64_t done, std::uint64_t total) {
        seen.push_back(done);
        boost::system::error_code ec;
        const auto part = fs::file_size(a / "big.bin.part", ec);
        on_disk.push_back(ec ? 0 : static_cast<std::uint64_t>(part));
        announced = total;
    });
    BOOST_REQUIRE(r);
    BOOST_TEST((r->kind == K::saved));
    BOOST_TEST(r->bytes == size);
    BOOST_TEST(announced == size);
    BOOST_TEST(same_bytes(a / "big.bin", b / "big.bin"));
    // Streamed: every piece is on disk by the time the next arrives (the file is never held in
    // memory), and no piece is large: the receive buffer is 256 KiB, 1 MiB leaves it room to
    // grow but not to swallow the file.
    BOOST_REQUIRE(!seen.empty());
    BOOST_TEST(seen.back() == size);
    BOOST_TEST((on_disk == seen), "the .part file lags the bytes received");
    std::uint64_t largest = seen.front();
    for (std::size_t i = 1; i < seen.size(); ++i) {
        BOOST_TEST_REQUIRE(seen[i] > seen[i - 1]);  // every call brings bytes
        largest = std::max(largest, seen[i] - seen[i - 1]);
    }
    BOOST_TEST(largest <= MiB, "a piece of " << largest << " bytes");
}

BOOST_AUTO_TEST_CASE(long_names_round_trip_through_the_cut_status_field) {
    TestNode a, b;
    const std::string name(200, 'L');  // "250 <name> found." is cut to 40 bytes on the wire
    write_file(b / name, 777, 6);
    BOOST_REQUIRE((a->connect(b.id()) == p2p::Node::ConnectResult::connected));
    BOOST_TEST((a->search(b.id(), name) == p2p::SearchOutcome::found));
    auto r = a->request(b.id(), name, false, {});
    BOOST_REQUIRE(r);
    BOOST_TEST((r->kind == K::saved));
    BOOST_TEST(same_bytes(a / name, b / name));
    r = a->request(b.id(), std::string(200, 'M'), false, {});
    BOOST_REQUIRE(r);
    BOOST_TEST((r->kind == K::not_found));
    BOOST_TEST(a->connected_peers() == local({b.port()}));
}

BOOST_AUTO_TEST_CASE(existing_file_is_kept_unless_overwrite) {
    TestNode a, b;
    write_file(b / "f.bin", 5000, 1);
    write_file(a / "f.bin", 100, 2);
    const std::string mine = read_file(a / "f.bin");
    BOOST_REQUIRE((a->connect(b.id()) == p2p::Node::ConnectResult::connected));

    auto r = a->request(b.id(), "f.bin", false, {});
    BOOST_REQUIRE(r);
    BOOST_TEST((r->kind == K::exists));
    BOOST_TEST(read_file(a / "f.bin") == mine);

    r = a->request(b.id(), "f.bin", true, {});
    BOOST_REQUIRE(r);
    BOOST_TEST((r->kind == K::saved));
    BOOST_TEST(same_bytes(a / "f.bin", b / "f.bin"));
}

BOOST_AUTO_TEST_CASE(request_from_a_peer_not_connected_is_nullopt) {
    TestNode a, b;
    write_file(b / "f.bin", 10);
    BOOST_TEST(!a->request(b.id(), "f.bin", false, {}));
    BOOST_TEST((a->search(b.id(), "f.bin") == p2p::SearchOutcome::disconnected));
    BOOST_TEST(!fs::exists(a / "f.bin"));
}

BOOST_AUTO_TEST_CASE(request_of_an_unsafe_name_is_refused_by_the_node_itself) {
    // Not only the console checks names: Node::request never writes outside its folder.
    TestNode a, b;
    BOOST_REQUIRE((a->connect(b.id()) == p2p::Node::ConnectResult::connected));
    for (const char* name : {"../escape.bin", "/tmp/escape.bin", "..", "a/b"}) {
        auto r = a->request(b.id(), name, true, {});
        BOOST_REQUIRE(r);
        BOOST_TEST((r->kind == p2p::DownloadOutcome::Kind::write_failed), name);
    }
    BOOST_TEST(!fs::exists(a / ".." / "escape.bin"));
    BOOST_TEST(a->connected_peers().size() == 1u);  // nothing was sent: the stream is intact
}

BOOST_AUTO_TEST_SUITE_END()

// ============================================================================================
BOOST_AUTO_TEST_SUITE(vanishing_peers)

BOOST_AUTO_TEST_CASE(peer_stopped_mid_search_is_reported_and_dropped) {
    TestNode a, c, d;
    auto b = std::make_unique<TestNode>();
    write_file(*b / "x.txt", 10);
    write_file(d / "x.txt", 10);
    const p2p::PeerId bp = b->id();
    for (const auto& p : {bp, c.id(), d.id()})
        BOOST_REQUIRE((a->connect(p) == p2p::Node::ConnectResult::connected));
    BOOST_REQUIRE((a->search(bp, "x.txt") == p2p::SearchOutcome::found));

    b->node->stop();  // the peer goes away while still in A's table

    // A search over all peers, as the console does it.
    std::vector<std::pair<p2p::PeerId, p2p::SearchOutcome>> results;
    for (const auto& p : a->connected_peers()) results.emplace_back(p, a->search(p, "x.txt"));
    BOOST_REQUIRE(results.size() == 3u);
    BOOST_TEST((results[0].second == p2p::SearchOutcome::disconnected));
    BOOST_TEST((results[1].second == p2p::SearchOutcome::not_found));
    BOOST_TEST((results[2].second == p2p::SearchOutcome::found));
    BOOST_TEST(a->connected_peers() == local({c.port(), d.port()}));

    // The remaining peers still work, for search and for download.
    BOOST_TEST((a->search(d.id(), "x.txt") == p2p::SearchOutcome::found));
    auto r = a->request(d.id(), "x.txt", false, {});
    BOOST_REQUIRE(r);
    BOOST_TEST((r->kind == K::saved));
    b.reset();
}

BOOST_AUTO_TEST_CASE(peer_stopped_before_request_is_reported_and_dropped) {
    TestNode a, c;
    auto b = std::make_unique<TestNode>();
    write_file(*b / "x.txt", 10);
    BOOST_REQUIRE((a->connect(b->id()) == p2p::Node::ConnectResult::connected));
    BOOST_REQUIRE((a->connect(c.id()) == p2p::Node::ConnectResult::connected));
    const p2p::PeerId bp = b->id();
    b.reset();

    auto r = a->request(bp, "x.txt", false, {});
    BOOST_REQUIRE(r);
    BOOST_TEST((r->kind == K::disconnected));
    BOOST_TEST(!fs::exists(a / "x.txt"));
    BOOST_TEST(a->connected_peers() == local({c.port()}));
}

BOOST_AUTO_TEST_SUITE_END()

// ============================================================================================
BOOST_AUTO_TEST_SUITE(stopping)

BOOST_AUTO_TEST_CASE(stop_with_idle_peers_connected_is_prompt) {
    TestNode b;
    TestNode a1, a2;
    BOOST_REQUIRE((a1->connect(b.id()) == p2p::Node::ConnectResult::connected));
    BOOST_REQUIRE((a2->connect(b.id()) == p2p::Node::ConnectResult::connected));
    p2p::Socket raw = raw_connect(b.port());
    BOOST_REQUIRE(eventually([&] { return b->active_sessions() == 3; }));

    auto t0 = Clock::now();
    b->stop();
    const double took = seconds_since(t0);
    BOOST_TEST(took < 10.0, "stop() took " << took << " s");  // prompt: the send timeout is 30 s
    BOOST_TEST(b->active_sessions() == 0u);
    BOOST_TEST(closed_within(raw, patience));
    // The peers notice at their next use.
    BOOST_TEST((a1->search(b.id(), "x") == p2p::SearchOutcome::disconnected));
    BOOST_TEST(a1->connected_peers().empty());
    b->stop();  // idempotent
}

BOOST_AUTO_TEST_CASE(stop_during_a_stalled_transfer_is_prompt) {
    TestNode b;
    write_file(b / "big.bin", 24 * MiB, 5);
    p2p::Socket raw = raw_connect(b.port());
    send_raw(raw, "REQ big.bin\n");
    // The reader never reads: the sender fills the socket buffers and blocks.
    BOOST_REQUIRE(eventually([&] { return b->active_sessions() == 1; }));
    std::this_thread::sleep_for(200ms);

    auto t0 = Clock::now();
    b->stop();
    const double took = seconds_since(t0);
    BOOST_TEST(took < 10.0, "stop() took " << took << " s");  // prompt: the send timeout is 30 s
    BOOST_TEST(b->active_sessions() == 0u);
}

BOOST_AUTO_TEST_CASE(stop_with_outgoing_connections_closes_them) {
    TestNode a, b;
    BOOST_REQUIRE((a->connect(b.id()) == p2p::Node::ConnectResult::connected));
    BOOST_REQUIRE(eventually([&] { return b->active_sessions() == 1; }));
    auto t0 = Clock::now();
    a->stop();
    BOOST_TEST(seconds_since(t0) < 10.0);
    BOOST_TEST(a->connected_peers().empty());
    // B's session sees the close and ends on its own.
    BOOST_TEST(eventually([&] { return b->active_sessions() == 0; }));
    BOOST_TEST(b.log().find("closed connection.") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

// ============================================================================================
BOOST_AUTO_TEST_SUITE(concurrency)

BOOST_AUTO_TEST_CASE(eight_clients_download_at_once) {
    TestNode b;
    constexpr int clients = 8;
    write_file(b / "common.bin", 3 * MiB + 7, 99);
    for (int i = 0; i < clients; ++i)
        write_file(b / ("own" + std::to_string(i) + ".bin"), 256 * 1024 + i * 1000, 100 + i);

    std::vector<std::unique_ptr<TempDir>> dirs;
    for (int i = 0; i < clients; ++i) dirs.push_back(std::make_unique<TempDir>());

    struct Result {
        bool connected = false;
        std::vector<K> kinds;
        std::vector<p2p::SearchOutcome> searches;
    };
    std::vector<Result> results(clients);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < clients; ++i) {
        threads.emplace_back([&, i] {
            Result& res = results[i];
            std::error_code ec;
            p2p::Socket s = p2p::Socket::connect("127.0.0.1", b.port(), patience, ec);
            ++ready;  // counted even on failure, so no thread waits for it forever
            if (ec) return;
            res.connected = true;
            while (ready.load() < clients) std::this_thread::sleep_for(1ms);  // start together
            p2p::FileIndex index(dirs[i]->path());
            const std::string own = "own" + std::to_string(i) + ".bin";
            const std::string other = "own" + std::to_string((i + 1) % clients) + ".bin";
            for (const std::string& name : {"common.bin"s, own, "missing.bin"s, other}) {
                res.searches.push_back(p2p::search(s, name, limits()));
                res.kinds.push_back(p2p::download(s, name, index, false, false, limits(), {}).kind);
            }
        });
    }
    for (auto& t : threads) t.join();

    for (int i = 0; i < clients; ++i) {
        BOOST_TEST_CONTEXT("client " << i) {
            const Result& res = results[i];
            BOOST_REQUIRE(res.connected);
            BOOST_TEST((res.kinds == std::vector<K>{K::saved, K::saved, K::not_found, K::saved}));
            BOOST_TEST((res.searches == std::vector<p2p::SearchOutcome>{
                            p2p::SearchOutcome::found, p2p::SearchOutcome::found,
                            p2p::SearchOutcome::not_found, p2p::SearchOutcome::found}));
            const fs::path& d = dirs[i]->path();
            BOOST_TEST(same_bytes(d / "common.bin", b / "common.bin"));
            const std::string own = "own" + std::to_string(i) + ".bin";
            const std::string other = "own" + std::to_string((i + 1) % clients) + ".bin";
            BOOST_TEST(same_bytes(d / own, b / own));
            BOOST_TEST(same_bytes(d / other, b / other));
        }
    }
    BOOST_TEST(eventually([&] { return b->active_sessions() == 0; }));
}

BOOST_AUTO_TEST_CASE(several_nodes_request_from_one_at_once) {
    TestNode b;
    write_file(b / "shared.bin", 2 * MiB, 8);
    constexpr int n = 4;
    std::vector<std::unique_ptr<TestNode>> nodes;
    for (int i = 0; i < n; ++i) {
        nodes.push_back(std::make_unique<TestNode>());
        BOOST_REQUIRE(((*nodes[i])->connect(b.id()) == p2p::Node::ConnectResult::connected));
    }
    std::vector<K> kinds(n, K::invalid_answer);
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i)
        threads.emplace_back([&, i] {
            auto r = (*nodes[i])->request(b.id(), "shared.bin", false, {});
            if (r) kinds[i] = r->kind;
        });
    for (auto& t : threads) t.join();
    for (int i = 0; i < n; ++i) {
        BOOST_TEST((kinds[i] == K::saved), "node " << i);
        BOOST_TEST(same_bytes(*nodes[i] / "shared.bin", b / "shared.bin"), "node " << i);
    }
}

// Bandwidth limits: one bucket per direction for the whole node (every session shares the
// upload limit), and a new rate reaches a transfer that is running.
BOOST_AUTO_TEST_CASE(rate_limits_are_per_node_and_change_running_transfers) {
    p2p::NodeConfig slow_down;
    slow_down.max_download_rate = MiB;
    TestNode a(slow_down), b;
    write_file(b / "f.bin", 2 * MiB, 9);
    BOOST_REQUIRE((a->connect(b.id()) == p2p::Node::ConnectResult::connected));
    auto t0 = Clock::now();
    auto r = a->request(b.id(), "f.bin", false, {});
    BOOST_TEST((r && r->kind == K::saved));
    BOOST_TEST(seconds_since(t0) >= 1.4);  // 2 MiB at 1 MiB/s after a 100 ms burst: about 1.9 s

    // Two requesters of a node limited to 2 MiB/s up share it: 4 MiB take about 1.9 s, not 0.9.
    p2p::NodeConfig slow_up;
    slow_up.max_upload_rate = 2 * MiB;
    TestNode c(slow_up), d, e;
    write_file(c / "f.bin", 2 * MiB, 10);
    BOOST_REQUIRE((d->connect(c.id()) == p2p::Node::ConnectResult::connected));
    BOOST_REQUIRE((e->connect(c.id()) == p2p::Node::ConnectResult::connected));
    std::vector<K> kinds(2, K::invalid_answer);
    t0 = Clock::now();
    std::thread other([&] {
        if (auto r2 = e->request(c.id(), "f.bin", false, {})) kinds[1] = r2->kind;
    });
    if (auto r1 = d->request(c.id(), "f.bin", false, {})) kinds[0] = r1->kind;
    other.join();
    BOOST_TEST(seconds_since(t0) >= 1.4);
    BOOST_TEST((kinds == std::vector<K>{K::saved, K::saved}));

    // 4 MiB at 256 KiB/s would take 16 s; lifted after 300 ms, the rest comes at full speed.
    a->download_limit().set_rate(256 * 1024);
    write_file(b / "g.bin", 4 * MiB, 11);
    std::atomic<bool> lifted{false};
    std::thread lifter([&] {
        std::this_thread::sleep_for(300ms);
        a->download_limit().set_rate(0);
        lifted = true;
    });
    t0 = Clock::now();
    r = a->request(b.id(), "g.bin", false, {});
    const double took = seconds_since(t0);
    lifter.join();
    BOOST_TEST((r && r->kind == K::saved));
    BOOST_TEST(lifted.load());
    BOOST_TEST(took < 12.0, took << " s");
    BOOST_TEST(same_bytes(a / "g.bin", b / "g.bin"));
}

BOOST_AUTO_TEST_SUITE_END()

// ============================================================================================
// The bytes on the wire, as a lab peer (or an attacker) sends them.
BOOST_AUTO_TEST_SUITE(raw_wire)

BOOST_AUTO_TEST_CASE(names_that_leave_the_shared_folder_are_not_found) {
    TempDir outside;
    write_file(outside / "secret", 100, 3);
    TestNode b;
    write_file(b / "inside.txt", 20, 4);
    fs::create_symlink(outside / "secret", b / "link_out");
    fs::create_symlink(b / "inside.txt", b / "link_in");
    fs::create_directory(b / "sub");
    write_file(b / "sub" / "deep.txt", 5);
    write_file(b / "half.bin.part", 5);  // a download in progress
    BOOST_REQUIRE(::mkfifo((b / "fifo").c_str(), 0644) == 0);  // must not hang the session
    // "../<folder>/secret" from the shared folder reaches the file outside.
    const std::string up = "../" + outside.path().filename().string() + "/secret";
    BOOST_REQUIRE(fs::exists(b.dir.path() / up));

    p2p::Socket s = raw_connect(b.port());
    for (const std::string& name : {"../x"s, up, "/etc/passwd"s, (outside / "secret").string(),
                                   "link_out"s, "sub"s, "sub/deep.txt"s, ".."s, "."s,
                                   "half.bin.part"s, "fifo"s}) {
        BOOST_TEST_CONTEXT("name " << name) {
            std::string want = "450 " + name + " not found.";
            BOOST_TEST(ask(s, "SRCH " + name + "\n", want) == want);
            want = req_not_found(name);
            BOOST_TEST(ask(s, "REQ " + name + "\n", want) == want);
        }
    }
    // A link that stays inside the folder is served like the file it names.
    BOOST_TEST(ask(s, "SRCH link_in\n", "150 link_in found.") == "150 link_in found.");
    const std::string want = req_found("link_in", read_file(b / "inside.txt"));
    BOOST_TEST(ask(s, "REQ link_in\n", want) == want);
}

BOOST_AUTO_TEST_CASE(lab_style_request_without_terminator_is_answered) {
    TestNode b;
    write_file(b / "SkyShip.jpg", 3000, 1);
    p2p::Socket s = raw_connect(b.port());
    BOOST_TEST(ask(s, "SRCH SkyShip.jpg", "150 SkyShip.jpg found.") == "150 SkyShip.jpg found.");
    BOOST_TEST(ask(s, "SRCH SkyPalace.jpg", "450 SkyPalace.jpg not found.") ==
               "450 SkyPalace.jpg not found.");
    const std::string want = req_found("SkyShip.jpg", read_file(b / "SkyShip.jpg"));
    BOOST_TEST(ask(s, "REQ SkyShip.jpg", want) == want);
    BOOST_TEST(ask(s, "REQ SkyPalace.jpg", req_not_found("SkyPalace.jpg")) ==
               req_not_found("SkyPalace.jpg"));
    BOOST_TEST(b.log().find("Received message from " ) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(terminated_request_split_across_writes_is_answered_once) {
    p2p::NodeConfig config;
    config.session.quiet_window = 3000ms;  // the pauses below must not end a request early
    TestNode b(config);
    write_file(b / "a.txt", 10);
    p2p::Socket s = raw_connect(b.port());
    for (const std::string& piece : {"SR"s, "CH a."s, "txt"s, "\r"s, "\n"s}) {
        send_raw(s, piece);
        std::this_thread::sleep_for(20ms);
    }
    BOOST_TEST(read_n(s, 16) == "150 a.txt found.");
    // Byte by byte; then the next request's answer is the very next thing on the wire.
    for (char c : "SRCH b.txt\n"s) send_raw(s, std::string(1, c));
    BOOST_TEST(ask(s, "SRCH a.txt\n", "450 b.txt not found.150 a.txt found.") ==
               "450 b.txt not found.150 a.txt found.");
    const std::string log = b.log();
    BOOST_TEST(count(log, "Received message from ") == 3u);
}

BOOST_AUTO_TEST_CASE(two_requests_in_one_write_get_two_answers_in_order) {
    TestNode b;
    write_file(b / "b.txt", 7, 9);
    p2p::Socket s = raw_connect(b.port());
    const std::string want = "450 a.txt not found." + req_found("b.txt", read_file(b / "b.txt")) +
                             "150 b.txt found.";
    BOOST_TEST(ask(s, "SRCH a.txt\nREQ b.txt\nSRCH b.txt\n", want) == want);
    // Nothing more follows: the next answer is the next request's.
    BOOST_TEST(ask(s, "SRCH a.txt\n", "450 a.txt not found.") == "450 a.txt not found.");
}

BOOST_AUTO_TEST_CASE(unknown_verb_and_malformed_requests_get_400) {
    TestNode b;
    p2p::Socket s = raw_connect(b.port());
    BOOST_TEST(ask(s, "GET /index.html\n", "400 Unknown message.") == "400 Unknown message.");
    BOOST_TEST(ask(s, "srch a\n", "400 Unknown message.") == "400 Unknown message.");
    BOOST_TEST(ask(s, "SRCH\n", "400 Missing filename.") == "400 Missing filename.");
    BOOST_TEST(ask(s, "REQ a b\n", "400 Too many arguments.") == "400 Too many arguments.");
    // Blank lines are not answered; the connection stays usable.
    BOOST_TEST(ask(s, "\n\r\n  \nSRCH a\n", "450 a not found.") == "450 a not found.");
    BOOST_TEST(b.log().find("Unknown message.") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(line_of_1024_bytes_is_accepted) {
    TestNode b;
    p2p::Socket s = raw_connect(b.port());
    const std::string name(1024 - 5, 'n');  // "SRCH " + name = 1024 bytes
    const std::string want = "450 " + name + " not found.";
    BOOST_TEST(ask(s, "SRCH " + name + "\n", want) == want);
}

BOOST_AUTO_TEST_CASE(line_longer_than_1024_bytes_gets_414_and_is_closed) {
    for (const std::string& end : {"\n"s, ""s}) {
        BOOST_TEST_CONTEXT((end.empty() ? "unterminated" : "terminated")) {
            TestNode b;
            p2p::Socket s = raw_connect(b.port());
            send_raw(s, "SRCH " + std::string(1100, 'n') + end);
            BOOST_TEST(read_n(s, 21) == "414 Message too long.");
            std::string rest;
            BOOST_TEST(closed_within(s, patience, &rest));
            BOOST_TEST(rest.empty());
            BOOST_TEST(eventually([&] { return b->active_sessions() == 0; }));
        }
    }
}

BOOST_AUTO_TEST_CASE(idle_peer_is_dropped_after_the_idle_timeout) {
    p2p::NodeConfig config;
    config.session.idle_timeout = 300ms;
    TestNode b(config);
    p2p::Socket idle = raw_connect(b.port());
    auto t0 = Clock::now();
    BOOST_TEST(closed_within(idle, patience));
    const double took = seconds_since(t0);
    BOOST_TEST(took >= 0.25, "dropped after " << took << " s");
    BOOST_TEST(eventually([&] { return b->active_sessions() == 0; }));
    BOOST_TEST(b.log().find("idle; connection closed.") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(peer_that_keeps_asking_is_not_idle) {
    p2p::NodeConfig config;
    config.session.idle_timeout = 1500ms;
    TestNode b(config);
    p2p::Socket s = raw_connect(b.port());
    // Two idle timeouts in total, but never one without a request.
    for (int i = 0; i < 10; ++i) {
        BOOST_REQUIRE(ask(s, "SRCH a\n", "450 a not found.") == "450 a not found.");
        std::this_thread::sleep_for(300ms);
    }
}

BOOST_AUTO_TEST_CASE(connections_beyond_max_sessions_are_told_busy_and_closed) {
    p2p::NodeConfig config;
    config.max_sessions = 2;
    TestNode b(config);
    write_file(b / "a.txt", 10);
    p2p::Socket c1 = raw_connect(b.port());
    p2p::Socket c2 = raw_connect(b.port());
    BOOST_REQUIRE(eventually([&] { return b->active_sessions() == 2; }));

    p2p::Socket extra = raw_connect(b.port());
    BOOST_TEST(read_n(extra, 26) == "421 Busy, try again later.");
    std::string rest;
    BOOST_TEST(closed_within(extra, patience, &rest));
    BOOST_TEST(rest.empty());

    // One of our nodes is told so, and says it was refused, not that the peer is inactive.
    {
        TestNode a;
        std::string why;
        BOOST_TEST((a->connect(p2p::PeerId{"127.0.0.1", b.port()}, &why) == p2p::Node::ConnectResult::refused_us));
        BOOST_TEST(why.find("it is busy") == 0u, why);
    }

    BOOST_TEST(ask(c1, "SRCH a.txt\n", "150 a.txt found.") == "150 a.txt found.");
    BOOST_TEST(ask(c2, "SRCH a.txt\n", "150 a.txt found.") == "150 a.txt found.");

    // A slot freed by a peer that left is available again.
    c1.close();
    BOOST_REQUIRE(eventually([&] { return b->active_sessions() == 1; }));
    p2p::Socket c3 = raw_connect(b.port());
    BOOST_TEST(ask(c3, "SRCH a.txt\n", "150 a.txt found.") == "150 a.txt found.");
    BOOST_TEST(b.log().find("Too many peers; refused peer ") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
