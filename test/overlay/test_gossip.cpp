// Gossip and search across several real programs on 127.0.0.1: the peer list spreads along a
// line of nodes, a search floods with a ttl and its hits come back along the path, a query is
// handled once per node even where the overlay has cycles, an IPv6 overlay, a restarted node
// rejoins from its saved list, a dead node is aged out. Apart from test_overlay (handshakes,
// reputation, hostile peers) so the two run side by side: these mostly wait on gossip timers.
// Cases labelled "slow" run in test/run.sh's release pass only.
#define BOOST_TEST_MODULE gossip
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

using namespace p2p::test;
using Clock = std::chrono::steady_clock;
namespace utf = boost::unit_test;

namespace {

/// `n` nodes, each bootstrapped only from the one before it; the first one started with
/// `first_extra` instead of `extra`.
std::vector<std::unique_ptr<OverlayNode>> line_of(int n, const std::vector<std::string>& extra,
                                                  const std::vector<std::string>& first_extra = {}) {
    std::vector<std::unique_ptr<OverlayNode>> nodes;
    for (int i = 0; i < n; ++i) {
        std::vector<std::string> args = i == 0 && !first_extra.empty() ? first_extra : extra;
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

// No link took the query: nothing can answer, so the search does not wait its 3 s.
BOOST_AUTO_TEST_CASE(a_node_without_links_answers_a_search_at_once) {
    OverlayNode alone({"--neighbours", "0"});
    const auto t0 = Clock::now();
    const std::string out = alone.command("search nothing.txt");
    BOOST_TEST(out.find("Search for nothing.txt: 0 hits, 0 messages, ") != std::string::npos, out);
    BOOST_TEST(seconds_since(t0) < 2.5);
    BOOST_TEST(alone.quit() == 0);
}

// A line, kept a line: one chosen neighbour each (--neighbours 1: its predecessor; the first
// node chooses none), so a query can only travel along it, and ttl decides how far.
BOOST_AUTO_TEST_CASE(gossip_spreads_along_a_line_and_ttl_bounds_a_search, *utf::timeout(300) * utf::label("slow")) {
    auto nodes = line_of(10, {"--neighbours", "1"}, {"--neighbours", "0"});
    write_file(nodes.back()->dir / "shared" / "far.txt", 100, 7);
    const auto t0 = Clock::now();
    // Every node learns the other nine from gossip alone (30 s is the bound; the
    // sanitizer builds get the test's patience on top).
    BOOST_TEST(all_know(nodes, 9, std::chrono::seconds(30) + patience));
    BOOST_TEST_MESSAGE("all 10 nodes knew each other after " << seconds_since(t0) << " s");

    auto& first = *nodes.front();
    const std::string far = first.command("search far.txt 9");
    BOOST_TEST(far.find("far.txt found on " + nodes.back()->id() + " (9 hops)\n") != std::string::npos, far);
    BOOST_TEST(std::regex_search(far, std::regex("Search for far.txt: 1 hit, [0-9]+ messages, [0-9]+ ms "
                                                 "\\(first hit after [0-9]+ ms\\)\\.")), far);
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
BOOST_AUTO_TEST_CASE(a_query_is_handled_once_per_node_despite_cycles, *utf::timeout(300) * utf::label("slow")) {
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

// The overlay over IPv6: ids are [::1]:port on the wire, in gossip, in hits and on the console.
BOOST_AUTO_TEST_CASE(an_ipv6_overlay_on_the_loopback, *utf::timeout(300) * utf::label("slow")) {
    if (!ipv6_loopback_available()) {
        BOOST_TEST_MESSAGE("skipped: ::1 cannot be bound here");
        return;
    }
    auto nodes = line_of(4, {"--host", "::1", "--neighbours", "1", "--verbose"}, {"--host", "::1", "--neighbours", "0", "--verbose"});
    write_file(nodes.back()->dir / "shared" / "v6.txt", 1000, 5);
    BOOST_TEST(all_know(nodes, 3, std::chrono::seconds(30) + patience));
    auto& first = *nodes.front();
    const std::string peers = first.command("peers");
    for (std::size_t i = 1; i < nodes.size(); ++i)
        BOOST_TEST(peers.find(nodes[i]->id()) != std::string::npos, peers);
    const std::string out = first.command("search v6.txt 5");
    BOOST_TEST(out.find("v6.txt found on " + nodes.back()->id() + " (3 hops)\n") != std::string::npos, out);
    const std::string req = first.command("request v6.txt " + nodes.back()->id());
    BOOST_TEST(req.find("SHA-256 verified.") != std::string::npos, req);
    BOOST_TEST(fs::file_size(first.dir / "shared" / "v6.txt") == 1000u);
    BOOST_TEST(nodes.back()->child->wait_for_at(0, " is node " + first.id() + " (overlay/1,accept/1,tls/1).") != std::string::npos);
    for (auto& n : nodes) BOOST_TEST(n->quit() == 0);
}

// The state folder remembers the overlay: a node restarted without --bootstrap finds it again.
BOOST_AUTO_TEST_CASE(a_restarted_node_rejoins_from_its_saved_list, *utf::timeout(300) * utf::label("slow")) {
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
    BOOST_TEST(found, again.child->output());
    BOOST_TEST(again.quit() == 0);
    BOOST_TEST(nodes[0]->quit() == 0);
    BOOST_TEST(nodes[1]->quit() == 0);
}

// A node that died is aged out everywhere, and gossip does not bring it back: a peer's time
// travels with it (PEERS ages), so hearsay passed back and forth never looks fresh.
BOOST_AUTO_TEST_CASE(a_dead_node_is_aged_out_and_stays_out, *utf::timeout(300) * utf::label("slow")) {
    auto nodes = line_of(3, {"--peer-max-age", "4"});
    BOOST_REQUIRE(all_know(nodes, 2, std::chrono::seconds(30) + patience));
    const std::string dead = nodes[2]->id() + " ";
    BOOST_TEST(nodes[2]->quit() == 0);
    bool gone = false;
    const auto deadline = Clock::now() + patience;
    while (!gone && Clock::now() < deadline) {
        gone = nodes[0]->command("peers").find(dead) == std::string::npos &&
               nodes[1]->command("peers").find(dead) == std::string::npos;
        if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    BOOST_TEST(gone);
    std::this_thread::sleep_for(std::chrono::seconds(6));  // three gossip rounds
    BOOST_TEST(nodes[0]->command("peers").find(dead) == std::string::npos);
    BOOST_TEST(nodes[1]->command("peers").find(dead) == std::string::npos);
    BOOST_TEST(nodes[0]->quit() == 0);
    BOOST_TEST(nodes[1]->quit() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
