// The overlay with real programs on 127.0.0.1: gossip spreads the peer list along a line of
// ten nodes, a search floods with a ttl and its hits come back along the path, a query is
// handled once per node even where the overlay has cycles, and a lab peer is never linked.
#define BOOST_TEST_MODULE overlay
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

using namespace p2p::test;
using Clock = std::chrono::steady_clock;
namespace utf = boost::unit_test;

namespace {

const std::string prompt = ">:";

/// One node of ours, started on a port the system chooses, with its own folders.
struct OverlayNode {
    TempDir dir;
    std::unique_ptr<Child> child;
    std::uint16_t port = 0;

    /// `state`: a state folder to use instead of a fresh one.
    explicit OverlayNode(const std::vector<std::string>& extra, const fs::path& state = {}) {
        fs::create_directories(dir / "shared");
        std::vector<std::string> argv = {node_binary().string(), "--port", "0",
                                         "--shared", (dir / "shared").string(),
                                         "--state", (state.empty() ? dir / "state" : state).string()};
        argv.insert(argv.end(), extra.begin(), extra.end());
        child = std::make_unique<Child>(argv, dir.path());
        port = child->listening_port();
        BOOST_REQUIRE_MESSAGE(port != 0, "node did not start:\n" << child->output());
        BOOST_REQUIRE(child->wait_for_at(0, prompt) != std::string::npos);
    }
    std::string id() const { return "127.0.0.1:" + std::to_string(port); }

    /// Runs a console command; what it printed up to the next prompt.
    std::string command(const std::string& line, std::chrono::milliseconds timeout = patience) {
        const std::size_t from = child->output().size();
        child->send(line + "\n");
        const std::size_t at = child->wait_for_at(from, "\n" + prompt, timeout);
        BOOST_REQUIRE_MESSAGE(at != std::string::npos, "no prompt after " << line << ":\n" << child->output());
        return child->output().substr(from, at + 1 - from);
    }
    /// How many known peers `peers` lists.
    std::size_t known() {
        std::smatch m;
        const std::string out = command("peers");
        return std::regex_search(out, m, std::regex("Known peers \\(([0-9]+)\\)")) ? std::stoul(m[1]) : 0;
    }
    int quit() {
        child->send("quit\n");
        return child->wait_exit();
    }
};

/// `n` nodes, each bootstrapped only from the one before it.
std::vector<std::unique_ptr<OverlayNode>> line_of(int n, const std::vector<std::string>& extra) {
    std::vector<std::unique_ptr<OverlayNode>> nodes;
    for (int i = 0; i < n; ++i) {
        std::vector<std::string> args = extra;
        if (i > 0) args.insert(args.end(), {"--bootstrap", nodes.back()->id()});
        nodes.push_back(std::make_unique<OverlayNode>(args));
    }
    return nodes;
}

/// Waits (bounded) until every node knows `want` peers.
bool all_know(std::vector<std::unique_ptr<OverlayNode>>& nodes, std::size_t want,
              std::chrono::milliseconds within) {
    const auto deadline = Clock::now() + within;
    for (;;) {
        bool all = true;
        for (auto& n : nodes) all = all && n->known() >= want;
        if (all) return true;
        if (Clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(integration)

// A line, kept a line: one chosen neighbour each (--neighbours 1), so a query can only travel
// along it, and ttl decides how far.
BOOST_AUTO_TEST_CASE(gossip_spreads_along_a_line_and_ttl_bounds_a_search, *utf::timeout(300)) {
    auto nodes = line_of(10, {"--neighbours", "1"});
    write_file(nodes.back()->dir / "shared" / "far.txt", 100, 7);
    const auto t0 = Clock::now();
    // Every node learns the other nine from gossip alone (30 s is the bound; the
    // sanitizer builds get the test's patience on top).
    BOOST_TEST(all_know(nodes, 9, std::chrono::seconds(30) + patience));
    BOOST_TEST_MESSAGE("all 10 nodes knew each other after " << seconds_since(t0) << " s");

    auto& first = *nodes.front();
    const std::string far = first.command("search far.txt 9");
    BOOST_TEST(far.find("far.txt found on " + nodes.back()->id() + " (9 hops)\n") != std::string::npos, far);
    BOOST_TEST(std::regex_search(far, std::regex("Search for far.txt: 1 hit, [0-9]+ messages, [0-9]+ ms\\.")), far);
    const std::string near = first.command("search far.txt 3");
    BOOST_TEST(near.find("found on") == std::string::npos, near);
    BOOST_TEST(near.find("Search for far.txt: 0 hits, ") != std::string::npos, near);
    // Three hops out and no further: the fourth node handled the ttl-3 query, the fifth did not.
    BOOST_TEST(count(nodes[3]->child->output(), "Query for far.txt from") == 2u);
    BOOST_TEST(count(nodes[4]->child->output(), "Query for far.txt from") == 1u);

    const std::string dot = first.command("topology");
    BOOST_TEST(dot.find("graph overlay {") != std::string::npos);
    const bool edge = dot.find("\"" + first.id() + "\" -- \"" + nodes[1]->id() + "\"") != std::string::npos ||
                      dot.find("\"" + nodes[1]->id() + "\" -- \"" + first.id() + "\"") != std::string::npos;
    BOOST_TEST(edge, dot);
    for (auto& n : nodes) BOOST_TEST(n->quit() == 0);
}

// With more neighbours than a line needs, the overlay has cycles; every node still handles a
// query once (a seen query id is dropped), and hits are not duplicated.
BOOST_AUTO_TEST_CASE(a_query_is_handled_once_per_node_despite_cycles, *utf::timeout(300)) {
    auto nodes = line_of(6, {"--neighbours", "3"});
    for (auto& n : nodes) write_file(n->dir / "shared" / "common.txt", 10, 1);
    BOOST_REQUIRE(all_know(nodes, 5, std::chrono::seconds(30) + patience));
    std::this_thread::sleep_for(std::chrono::seconds(3));  // links to the peers just learned
    const std::string out = nodes[0]->command("search common.txt 7");
    BOOST_TEST(std::regex_search(out, std::regex("Search for common.txt: 5 hits, ")), out);
    for (std::size_t i = 1; i < nodes.size(); ++i) {
        BOOST_TEST(count(out, "found on " + nodes[i]->id() + " (") == 1u, out);
        BOOST_TEST(count(nodes[i]->child->output(), "Query for common.txt from") == 1u,
                   "node " << i << ":\n" << nodes[i]->child->output());
    }
    for (auto& n : nodes) BOOST_TEST(n->quit() == 0);
}

// The state folder remembers the overlay: a node restarted without --bootstrap finds it again.
BOOST_AUTO_TEST_CASE(a_restarted_node_rejoins_from_its_saved_list, *utf::timeout(300)) {
    auto nodes = line_of(3, {});
    BOOST_REQUIRE(all_know(nodes, 2, std::chrono::seconds(30) + patience));
    TempDir keep;
    const fs::path state = nodes[2]->dir / "state";
    BOOST_TEST(nodes[2]->quit() == 0);
    BOOST_TEST(read_file(state / "known_peers").find(nodes[0]->id() + " ") != std::string::npos);
    fs::copy_file(state / "known_peers", keep / "known_peers");

    OverlayNode again({}, keep.path());  // no --bootstrap
    write_file(nodes[0]->dir / "shared" / "x.txt", 10, 1);
    bool found = false;
    for (int i = 0; i < 60 && !found; ++i) {
        found = again.command("search x.txt 3").find("x.txt found on " + nodes[0]->id()) != std::string::npos;
        if (!found) std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    BOOST_TEST(found);
    BOOST_TEST(again.quit() == 0);
    BOOST_TEST(nodes[0]->quit() == 0);
    BOOST_TEST(nodes[1]->quit() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
