// The lab's sample transcripts (../shared/spec/lab.md, Tasks 1 to 4), replayed line by line on
// our nodes started as the demo starts them (defaults: overlay, TLS, swarm all on). Ten
// consecutive ports the test holds play 5000-5009, so `scan` covers the lab's range; the
// transcripts below are the lab's text with its ports, mapped at run time.
//
// Each command must print exactly the lab's lines. Between them may come only the server
// lines the lab also prints (a connection, a message, a response, a peer that closed), named
// by an ephemeral port as the lab names them. Where our nodes say more than the lab, because
// both ends are ours, it is written out below and in docs/scenario.md: a request between our
// nodes goes by the extension (XREQ, answer 260/261 with the SHA-256) and ends with
// "SHA-256 verified.".
#define BOOST_TEST_MODULE lab_transcript
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <map>
#include <regex>
#include <sstream>

using namespace p2p::test;
namespace utf = boost::unit_test;

namespace {

/// One step of a transcript: what was typed after ">:" and the lines the lab printed for it.
struct Step {
    std::string command;
    std::string expected;
};

/// The lab's sample output as it would look with the prompts on their own lines: ">:command"
/// then what the command printed. Asynchronous server lines are left out (checked apart).
std::vector<Step> parse(const std::string& text) {
    std::vector<Step> steps;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(">:", 0) == 0) steps.push_back({line.substr(2), ""});
        else if (!steps.empty()) steps.back().expected += line + "\n";
    }
    return steps;
}

/// The lab's server lines: only these may come between a command's lines.
bool lab_server_line(const std::string& line) {
    static const std::regex server(
        "(Connection established with peer [0-9]+|Received message from [0-9]+: b'.*'|"
        "Response to peer [0-9]+:  .*|Peer [0-9]+ closed connection\\.)");
    return std::regex_match(line, server);
}

std::string without_lab_server_lines(const std::string& text, std::vector<std::string>* dropped = nullptr) {
    std::istringstream in(text);
    std::string line, out;
    while (std::getline(in, line)) {
        // A server line that came while the console waited follows the prompt, as in the lab's
        // transcripts (">:Connection established with peer 37402").
        if (line.rfind(">:", 0) == 0 && lab_server_line(line.substr(2))) line.erase(0, 2);
        if (lab_server_line(line)) {
            if (dropped) dropped->push_back(line);
        } else {
            out += line + "\n";
        }
    }
    return out;
}

/// The lab's ports 5000-5009 as the ten ports the test holds: the lab's `p` is base + p - 5000.
class LabPorts {
public:
    LabPorts() {
        std::vector<Hold> how(10, Hold::refusing);  // inactive, unless a node takes one
        for (int p : {0, 3, 5, 9}) how[p] = Hold::for_program;
        held_ = hold_port_run(how);
        base_ = held_.front().port();
    }
    std::uint16_t operator()(int lab_port) const { return static_cast<std::uint16_t>(base_ + lab_port - 5000); }
    std::string range() const { return std::to_string(base_) + "-" + std::to_string(base_ + 9); }
    /// `text` with each of the lab's ports 5000-5009 put as ours.
    std::string map(const std::string& text) const {
        static const std::regex lab_port("\\b500[0-9]\\b");
        std::string out;
        auto last = text.cbegin();
        for (std::sregex_iterator it(text.begin(), text.end(), lab_port), end; it != end; ++it) {
            out.append(last, text.cbegin() + it->position());
            out += std::to_string((*this)(std::stoi(it->str())));
            last = text.cbegin() + it->position() + it->length();
        }
        return out.append(last, text.cend());
    }

private:
    std::vector<HeldPort> held_;
    std::uint16_t base_ = 0;
};

/// The peer (ephemeral port) of the first message line of `lines` that contains `needle`.
std::string peer_of(const std::vector<std::string>& lines, const std::string& needle) {
    static const std::regex from("Received message from ([0-9]+): ");
    std::smatch m;
    for (const auto& l : lines)
        if (l.find(needle) != std::string::npos && std::regex_search(l, m, from)) return m[1];
    return "";
}

/// One node of ours on the lab port `lab_port`, with the demo's defaults.
struct LabNode {
    LabNode(const LabPorts& ports, int lab_port)
        : node({"--port", std::to_string(ports(lab_port)), "--scan-range", ports.range()}), ports_(ports) {
        const std::string& out = node.child->output();
        BOOST_TEST(out.substr(0, out.find("\n>:") + 1) ==
                   "Node listening on 127.0.0.1:" + std::to_string(ports(lab_port)) + "\n" + lab_usage_block);
    }
    fs::path shared() const { return node.dir / "shared"; }

    /// Runs the steps of a lab transcript (its ports mapped); `quit` last, if it is there.
    void replay(const std::string& transcript) {
        // The usage line names 5000 and 5009 as text, not as ports: it goes in after the mapping.
        std::string mapped = ports_.map(transcript);
        for (std::size_t at; (at = mapped.find("{usage}\n")) != std::string::npos;)
            mapped.replace(at, 8, lab_usage_block);
        for (const Step& step : parse(mapped)) {
            BOOST_TEST_CONTEXT("command '" << step.command << "'") {
                if (step.command == "quit") {
                    const std::size_t from = node.seen;
                    BOOST_TEST(node.quit() == 0);
                    BOOST_TEST(without_lab_server_lines(node.child->output().substr(from)) == step.expected);
                    return;
                }
                BOOST_TEST(without_lab_server_lines(node.command(step.command)) == step.expected);
            }
        }
    }

    /// The peer that sent `message` (its ephemeral port), once this node answered it and saw
    /// that peer close; empty if not within the patience.
    std::string closed_after(const std::string& message) {
        if (node.child->wait_for_at(0, ": b'" + message + "'\nResponse to peer ") == std::string::npos) return "";
        const std::string from = peer_of(server_lines(), "b'" + message + "'");
        if (from.empty() || node.child->wait_for_at(0, "Peer " + from + " closed connection.") == std::string::npos)
            return "";
        return from;
    }

    /// The lab's server lines this node printed, in order.
    std::vector<std::string> server_lines() {
        std::vector<std::string> lines;
        without_lab_server_lines(node.child->output(), &lines);
        return lines;
    }

    OverlayNode node;

private:
    const LabPorts& ports_;
};

/// True when `want` occur in `lines` in this order (others may come between); else says which
/// did not.
boost::test_tools::predicate_result in_order(const std::vector<std::string>& lines, const std::vector<std::string>& want) {
    std::size_t i = 0;
    for (const auto& l : lines)
        if (i < want.size() && l == want[i]) ++i;
    if (i == want.size()) return true;
    boost::test_tools::predicate_result r(false);
    r.message() << "missing, in this order: '" << want[i] << "'; the lab's lines printed:";
    for (const auto& l : lines) r.message() << "\n  " << l;
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(integration)

// Task 1, its commands on one node: the lab's usage lines, every usage error, and for `scan`,
// `lp`, `connect`, `disconnect`, `sf` and `request` the answers of the later tasks' code (the
// Task 1 sample shows placeholders such as "Discover active peers." for those).
BOOST_AUTO_TEST_CASE(task_1_commands, *utf::timeout(180)) {
    LabPorts ports;
    LabNode a(ports, 5000);
    a.replay(R"(>:help
{usage}
>:?
{usage}
>:scan
Discover active peers:
Scanning peer 5001...
Peer 5001 is inactive.
Scanning peer 5002...
Peer 5002 is inactive.
Scanning peer 5003...
Peer 5003 is inactive.
Scanning peer 5004...
Peer 5004 is inactive.
Scanning peer 5005...
Peer 5005 is inactive.
Scanning peer 5006...
Peer 5006 is inactive.
Scanning peer 5007...
Peer 5007 is inactive.
Scanning peer 5008...
Peer 5008 is inactive.
Scanning peer 5009...
Peer 5009 is inactive.
>:lp
List connected peers:
Node 5000 has no connected peers.
>:connect
Usage: connect <peer_id>
>:connect 5001
Connect to peer 5001:
Peer 5001 is inactive.
>:disconnect
Usage: disconnect <peer_id>
>:disconnect 5001
Disconnect from peer 5001:
Peer 5001 is NOT connected.
>:sf
Usage: sf <filename>
>:sf SkyPalace.jpg
Search for SkyPalace.jpg on all connected peers:
>:request SkyPalace.jpg
Usage: request <filename> <peer_id>
>:request SkyPalace.jpg 5001
Request file SkyPalace.jpg from peer 5001:
Peer 5001 is NOT connected.
>:quit
All sockets closed. Exiting program.
)");
}

// Task 2: four nodes; 5000 scans, connects to the three others, lists and disconnects; 5009
// scans too. The nodes connected to list no connected peers (theirs are incoming).
BOOST_AUTO_TEST_CASE(task_2_discover_and_connect, *utf::timeout(240)) {
    LabPorts ports;
    LabNode n5003(ports, 5003), n5005(ports, 5005), n5009(ports, 5009);
    LabNode n5000(ports, 5000);
    std::string scan = ">:scan\nDiscover active peers:\n";
    for (int p = 5001; p <= 5009; ++p)
        scan += "Scanning peer " + std::to_string(p) + "...\nPeer " + std::to_string(p) +
                (p == 5003 || p == 5005 || p == 5009 ? " is active.\n" : " is inactive.\n");
    n5000.replay(scan + R"(>:lp
List connected peers:
Node 5000 has no connected peers.
>:connect 5003
Connect to peer 5003:
Peer 5003 connected.
>:ls
Unknown command.
>:lp
List connected peers:
Node 5000 has connected peers: 5003 
>:connect 5005
Connect to peer 5005:
Peer 5005 connected.
>:lp
List connected peers:
Node 5000 has connected peers: 5003 5005 
>:connect 5009
Connect to peer 5009:
Peer 5009 connected.
>:lp
List connected peers:
Node 5000 has connected peers: 5003 5005 5009 
>:disconnect 5003
Disconnect from peer 5003:
Peer 5003 disconnected.
>:lp
List connected peers:
Node 5000 has connected peers: 5005 5009 
)");
    std::string scan9 = ">:scan\nDiscover active peers:\n";
    for (int p = 5000; p <= 5008; ++p)
        scan9 += "Scanning peer " + std::to_string(p) + "...\nPeer " + std::to_string(p) +
                 (p == 5000 || p == 5003 || p == 5005 ? " is active.\n" : " is inactive.\n");
    n5009.replay(">:lp\nList connected peers:\nNode 5009 has no connected peers.\n" + scan9 +
                 ">:lp\nList connected peers:\nNode 5009 has no connected peers.\n"
                 ">:quit\nAll sockets closed. Exiting program.\n");
    n5003.replay(">:lp\nList connected peers:\nNode 5003 has no connected peers.\n>:quit\nAll sockets closed. Exiting program.\n");
    n5005.replay(">:lp\nList connected peers:\nNode 5005 has no connected peers.\n>:quit\nAll sockets closed. Exiting program.\n");
    n5000.replay(">:quit\nAll sockets closed. Exiting program.\n");
}

// Task 3: 5000 connects to three nodes and searches; each searched node prints the lab's
// server lines for the SRCH, naming 5000 by its ephemeral port.
BOOST_AUTO_TEST_CASE(task_3_search, *utf::timeout(240)) {
    LabPorts ports;
    LabNode n5003(ports, 5003), n5005(ports, 5005), n5009(ports, 5009);
    write_file(n5003.shared() / "SkyShip.jpg", 85021, 21);
    write_file(n5009.shared() / "SkyShip.jpg", 85021, 21);
    LabNode n5000(ports, 5000);
    n5000.replay(R"(>:connect 5003
Connect to peer 5003:
Peer 5003 connected.
>:connect 5005
Connect to peer 5005:
Peer 5005 connected.
>:connect 5009
Connect to peer 5009:
Peer 5009 connected.
>:lp
List connected peers:
Node 5000 has connected peers: 5003 5005 5009 
>:sf SkyShip.jpg
Search for SkyShip.jpg on all connected peers:
SkyShip.jpg found on 5003
SkyShip.jpg not found on 5005
SkyShip.jpg found on 5009
>:quit
All sockets closed. Exiting program.
)");
    for (LabNode* n : {&n5003, &n5005, &n5009}) {
        BOOST_TEST_CONTEXT("the searched node on " << n->node.port) {
            // The lab's four lines, in order, for the connection that searched.
            const std::string from = n->closed_after("SRCH SkyShip.jpg");
            BOOST_REQUIRE(!from.empty());
            const auto lines = n->server_lines();
            const bool found = n != &n5005;
            BOOST_TEST(in_order(lines, {"Connection established with peer " + from,
                                        "Received message from " + from + ": b'SRCH SkyShip.jpg'",
                                        "Response to peer " + from + (found ? ":  150 SkyShip.jpg found." : ":  450 SkyShip.jpg not found."),
                                        "Peer " + from + " closed connection."}));
            n->replay(">:quit\nAll sockets closed. Exiting program.\n");
        }
    }
}

// Task 4: 5000 searches and downloads from 5003. Between our nodes the request goes by the
// extension, so 5003's answer carries the SHA-256 and 5000 checks it (the one line more).
BOOST_AUTO_TEST_CASE(task_4_download, *utf::timeout(240)) {
    LabPorts ports;
    LabNode n5003(ports, 5003);
    write_file(n5003.shared() / "SkyShip.jpg", 85021, 21);
    LabNode n5000(ports, 5000);
    n5000.replay(R"(>:connect 5003
Connect to peer 5003:
Peer 5003 connected.
>:sf SkyShip.jpg
Search for SkyShip.jpg on all connected peers:
SkyShip.jpg found on 5003
>:sf SkyPalace.jpg
Search for SkyPalace.jpg on all connected peers:
SkyPalace.jpg not found on 5003
>:request SkyPalace.jpg 5003
Request file SkyPalace.jpg from peer 5003:
SkyPalace.jpg not found on 5003.
>:request SkyShip.jpg 5003
Request file SkyShip.jpg from peer 5003:
SkyShip.jpg found on 5003. 85021 bytes received.
SHA-256 verified.
>:quit
All sockets closed. Exiting program.
)");
    BOOST_TEST(same_bytes(n5000.shared() / "SkyShip.jpg", n5003.shared() / "SkyShip.jpg"));
    const std::string from = n5003.closed_after("SRCH SkyShip.jpg");
    BOOST_REQUIRE(!from.empty());
    const auto lines = n5003.server_lines();
    BOOST_TEST(in_order(lines, {"Connection established with peer " + from,
                                "Received message from " + from + ": b'SRCH SkyShip.jpg'",
                                "Response to peer " + from + ":  150 SkyShip.jpg found.",
                                "Received message from " + from + ": b'SRCH SkyPalace.jpg'",
                                "Response to peer " + from + ":  450 SkyPalace.jpg not found.",
                                "Received message from " + from + ": b'XREQ SkyPalace.jpg 0'",
                                "Response to peer " + from + ":  560 SkyPalace.jpg not found.",
                                "Received message from " + from + ": b'XREQ SkyShip.jpg 0'",
                                "Peer " + from + " closed connection."}));
    // 260 if 5003 had hashed the file before the request, 261 (digest after the data) if not.
    const std::regex answer("Response to peer " + from + ":  26[01] SkyShip\\.jpg found\\. Length in bytes: 85021, SHA-256 ([0-9a-f]{16}\\.\\.\\.|after the data)");
    BOOST_TEST(std::count_if(lines.begin(), lines.end(), [&](const std::string& l) { return std::regex_match(l, answer); }) == 1);
    n5003.replay(">:quit\nAll sockets closed. Exiting program.\n");
}

BOOST_AUTO_TEST_SUITE_END()
