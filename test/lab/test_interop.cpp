// Interop with the lab's reference peer: test/lab_peer.py is the lab's Python code run as it
// is. Our node requests from it and serves it, over one connection each way, and every file
// must arrive byte for byte while both consoles print the lab's lines.
#define BOOST_TEST_MODULE interop
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <cctype>
#include <memory>
#include <string>

using namespace p2p::test;

namespace {

constexpr std::uint64_t skyship_size = 85021;    // the lab's SkyShip.jpg
constexpr std::uint64_t big_size = 3u << 20;     // many recv() calls on both sides
constexpr auto transfer_timeout = std::chrono::milliseconds(30s);
// Generous: a pyenv shim alone takes about a second per python3 start, several under load.
constexpr auto startup_timeout = std::chrono::milliseconds(30s);

/// Sends one console line and waits until `expected` appears in what the child prints next.
bool command(Child& child, const std::string& line, const std::string& expected,
             std::chrono::milliseconds timeout = 10s) {
    const std::size_t before = count(child.output(), expected);
    child.send(line + "\n");
    return child.wait_for_count(expected, before + 1, timeout);
}

/// True once `needle` has been printed (a server line from another thread).
bool printed(Child& child, const std::string& needle) {
    return child.wait_for_count(needle, 1, 10s);
}

/// The peer id a listener printed in "Connection established with peer X" (the remote port).
std::string accepted_peer(Child& child) {
    const std::string prefix = "Connection established with peer ";
    BOOST_REQUIRE(printed(child, prefix));
    const std::string out = child.output();
    std::size_t begin = out.find(prefix) + prefix.size(), end = begin;
    while (end < out.size() && std::isdigit(static_cast<unsigned char>(out[end]))) ++end;
    BOOST_REQUIRE(end > begin);
    return out.substr(begin, end - begin);
}

/// An ASCII name of exactly `n` characters (n >= 5), distinct for each letter and length.
std::string name_of_length(std::size_t n, char letter) { return std::string(n - 4, letter) + ".bin"; }

/// Requests `name` and waits for `answer`, then requests small.txt on the same connection: that
/// arrives whole only if every byte of the first answer was read, and none more.
void request_then_small(Child& node, const std::string& peer, const std::string& name,
                        const std::string& answer) {
    BOOST_REQUIRE_MESSAGE(command(node, "request " + name + " " + peer, answer, transfer_timeout),
                          name.size() << "-byte name, expected: " << answer << "got:\n" << node.output());
    BOOST_REQUIRE_MESSAGE(command(node, "request -f small.txt " + peer,
                                  "small.txt found on " + peer + ". 10 bytes received.\n"),
                          "out of step after the " << name.size() << "-byte name:\n" << node.output());
}

/// The port a child reports in "Node listening on 127.0.0.1:N": both programs are started
/// with port 0, so no free port is guessed and none can be taken between a guess and the bind.
std::uint16_t listening_port(Child& child, const std::string& who) {
    const std::uint16_t port = child.listening_port(startup_timeout);
    BOOST_REQUIRE_MESSAGE(port != 0, who << " did not start:\n" << child.output());
    return port;
}

/// One lab peer and one node of ours on 127.0.0.1, each with its own shared folder.
struct Peers {
    TempDir tmp;  // declared first: removed after both children are killed
    fs::path lab_dir = tmp / "lab";
    fs::path node_dir = tmp / "node";
    std::uint16_t lab_port = 0, node_port = 0;  // known once started
    std::unique_ptr<Child> lab, node;

    Peers() {
        fs::create_directories(lab_dir);
        fs::create_directories(node_dir);
    }

    std::string lab_id() const { return std::to_string(lab_port); }
    std::string node_id() const { return std::to_string(node_port); }

    void start_lab() {
        const fs::path script = repo_root() / "test" / "lab_peer.py";
        lab = std::make_unique<Child>(std::vector<std::string>{"python3", "-u", script.string(), "0",
                                                               lab_dir.string()},
                                      tmp.path());
        lab_port = listening_port(*lab, "lab peer");
        BOOST_REQUIRE(lab->wait_for_count(">:", 1, startup_timeout));
    }

    void start_node(const std::vector<std::string>& extra = {}) {
        std::vector<std::string> argv{node_binary().string(), "--port", "0", "--shared", node_dir.string()};
        argv.insert(argv.end(), extra.begin(), extra.end());
        node = std::make_unique<Child>(argv, tmp.path());
        node_port = listening_port(*node, "node");
        BOOST_REQUIRE(node->wait_for_count(">:", 1, startup_timeout));
    }

    /// Both started, the node connected to the lab peer, which serves small.txt (10 bytes) for
    /// request_then_small.
    void start_node_connected_to_lab() {
        write_file(lab_dir / "small.txt", 10, 99);
        start_lab();
        start_node();
        BOOST_REQUIRE(command(*node, "connect " + lab_id(), "Peer " + lab_id() + " connected.\n"));
    }

    /// The node still holds its connection (it drops a peer whose answer is out of step); both quit.
    void check_connected_and_quit() {
        BOOST_TEST(command(*node, "lp", "Node " + node_id() + " has connected peers: " + lab_id() + " \n"));
        quit(*node);
        quit(*lab);
    }

    /// quit on a console: the farewell line, then exit code 0.
    static void quit(Child& child) {
        child.send("quit\n");
        BOOST_TEST(printed(child, "All sockets closed. Exiting program."));
        BOOST_TEST(child.wait_exit(10s) == 0);
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(integration)

BOOST_AUTO_TEST_CASE(our_node_requests_from_the_lab_peer) {
    Peers p;
    write_file(p.lab_dir / "SkyShip.jpg", skyship_size, 1);
    write_file(p.lab_dir / "big.bin", big_size, 2);
    p.start_lab();
    p.start_node();
    Child& node = *p.node;
    const std::string L = p.lab_id();

    BOOST_REQUIRE(command(node, "connect " + L, "Peer " + L + " connected.\n"));
    BOOST_TEST(command(node, "sf SkyShip.jpg", "SkyShip.jpg found on " + L + "\n"));
    BOOST_TEST(command(node, "sf SkyPalace.jpg", "SkyPalace.jpg not found on " + L + "\n"));
    BOOST_TEST(command(node, "request SkyPalace.jpg " + L, "SkyPalace.jpg not found on " + L + ".\n"));
    BOOST_TEST(command(node, "request SkyShip.jpg " + L,
                       "SkyShip.jpg found on " + L + ". 85021 bytes received.\n", transfer_timeout));
    BOOST_TEST(command(node, "request big.bin " + L,
                       "big.bin found on " + L + ". " + std::to_string(big_size) + " bytes received.\n",
                       transfer_timeout));

    // The lab's server side saw our requests, terminator and all, and answered them.
    Child& lab = *p.lab;
    const std::string N = accepted_peer(lab);
    BOOST_TEST(printed(lab, "Received message from " + N + ": b'SRCH SkyShip.jpg\\n'\n"));
    BOOST_TEST(printed(lab, "Response to peer " + N + ":  150 SkyShip.jpg found.\n"));
    BOOST_TEST(printed(lab, "Response to peer " + N + ":  550 SkyPalace.jpg not found.\n"));
    BOOST_TEST(printed(lab, "Response to peer " + N + ":  250 SkyShip.jpg found. Length in bytes: 85021\n"));

    Peers::quit(node);
    BOOST_TEST(same_bytes(p.lab_dir / "SkyShip.jpg", p.node_dir / "SkyShip.jpg"));
    BOOST_TEST(same_bytes(p.lab_dir / "big.bin", p.node_dir / "big.bin"));
    BOOST_TEST(!fs::exists(p.node_dir / "SkyPalace.jpg"));
    BOOST_TEST(printed(lab, "Peer " + N + " closed connection.\n"));
    Peers::quit(lab);
}

// `get` from a lab peer: it has no manifest and no chunks, so the file comes whole, with the
// lab's REQ, and the lab peer sees nothing but lab bytes.
BOOST_AUTO_TEST_CASE(get_takes_a_whole_file_from_a_lab_peer) {
    Peers p;
    write_file(p.lab_dir / "SkyShip.jpg", skyship_size, 1);
    p.start_lab();
    p.start_node();
    Child& node = *p.node;
    const std::string L = "127.0.0.1:" + p.lab_id();
    BOOST_TEST(command(node, "get SkyShip.jpg " + p.lab_id(),
                       "Source " + L + " is a lab peer (whole files only, no chunks).\n"
                       "No source has a manifest of SkyShip.jpg ready; fetching it whole from " + L + ".\n", transfer_timeout));
    BOOST_TEST(printed(node, "SkyShip.jpg found on " + p.lab_id() + ". 85021 bytes received.\n"));
    Child& lab = *p.lab;
    // Two connections: the probe that found it a lab peer, then the REQ.
    BOOST_TEST(printed(lab, ":  250 SkyShip.jpg found. Length in bytes: 85021\n"));
    BOOST_TEST(lab.output().find("XMAN") == std::string::npos);
    BOOST_TEST(lab.output().find("HELLO") == std::string::npos);
    Peers::quit(node);
    BOOST_TEST(same_bytes(p.lab_dir / "SkyShip.jpg", p.node_dir / "SkyShip.jpg"));
    Peers::quit(lab);
}

// A node whose DHT runs lists it in its HELLO, which a lab peer never gets: it answered the
// probe 450, so it sees the probe and its own protocol, and nothing of the DHT.
BOOST_AUTO_TEST_CASE(a_node_with_its_dht_on_sends_a_lab_peer_only_lab_bytes) {
    Peers p;
    write_file(p.lab_dir / "SkyShip.jpg", skyship_size, 1);
    p.start_lab();
    p.start_node({"--dht", "0"});
    Child& node = *p.node;
    BOOST_REQUIRE(node.wait_for_at(0, "DHT listening on UDP port ") != std::string::npos);
    const std::string L = p.lab_id();
    BOOST_REQUIRE(command(node, "connect " + L, "Peer " + L + " connected.\n"));
    BOOST_TEST(command(node, "sf SkyShip.jpg", "SkyShip.jpg found on " + L + "\n"));
    Child& lab = *p.lab;
    const std::string N = accepted_peer(lab);
    BOOST_TEST(printed(lab, "Received message from " + N + ": b'SRCH SkyShip.jpg\\n'\n"));
    BOOST_TEST(lab.output().find("HELLO") == std::string::npos);
    BOOST_TEST(lab.output().find("dht") == std::string::npos);
    p.check_connected_and_quit();
}

BOOST_AUTO_TEST_CASE(the_lab_peer_requests_from_our_node) {
    Peers p;
    write_file(p.node_dir / "SkyShip.jpg", skyship_size, 3);
    write_file(p.node_dir / "big.bin", big_size, 4);
    p.start_node();
    p.start_lab();
    Child& lab = *p.lab;
    const std::string N = p.node_id();

    // The lab prints response[4:-1] for SRCH, and response[4:-1].strip()[:-1] for REQ.
    BOOST_REQUIRE(command(lab, "connect " + N, "Peer " + N + " connected.\n"));
    BOOST_TEST(command(lab, "sf SkyShip.jpg", "SkyShip.jpg found on " + N + "\n"));
    BOOST_TEST(command(lab, "sf SkyPalace.jpg", "SkyPalace.jpg not found on " + N + "\n"));
    BOOST_TEST(command(lab, "request SkyPalace.jpg " + N, "SkyPalace.jpg not found on " + N + ".\n"));
    BOOST_TEST(command(lab, "request SkyShip.jpg " + N,
                       "SkyShip.jpg found on " + N + ". 85021 bytes received.\n", transfer_timeout));
    BOOST_TEST(command(lab, "request big.bin " + N,
                       "big.bin found on " + N + ". " + std::to_string(big_size) + " bytes received.\n",
                       transfer_timeout));

    // Our server lines are the lab's: the unterminated request shown as Python bytes.
    Child& node = *p.node;
    const std::string L = accepted_peer(node);
    BOOST_TEST(printed(node, "Received message from " + L + ": b'SRCH SkyShip.jpg'\n"));
    BOOST_TEST(printed(node, "Response to peer " + L + ":  150 SkyShip.jpg found.\n"));
    BOOST_TEST(printed(node, "Response to peer " + L + ":  450 SkyPalace.jpg not found.\n"));
    BOOST_TEST(printed(node, "Received message from " + L + ": b'REQ SkyPalace.jpg'\n"));
    BOOST_TEST(printed(node, "Response to peer " + L + ":  550 SkyPalace.jpg not found.\n"));
    BOOST_TEST(printed(node, "Response to peer " + L + ":  250 SkyShip.jpg found. Length in bytes: 85021\n"));

    Peers::quit(lab);
    BOOST_TEST(same_bytes(p.node_dir / "SkyShip.jpg", p.lab_dir / "SkyShip.jpg"));
    BOOST_TEST(same_bytes(p.node_dir / "big.bin", p.lab_dir / "big.bin"));
    BOOST_TEST(!fs::exists(p.lab_dir / "SkyPalace.jpg"));
    BOOST_TEST(printed(node, "Peer " + L + " closed connection.\n"));
    Peers::quit(node);
}

// Every answer kind back to back on one connection: a 40-byte 550 field with no length, an
// empty file, SRCH right after 3 MiB, the same file twice. A stream out of step would show as
// a wrong line, and our node would drop the peer (lp checks that it did not).
BOOST_AUTO_TEST_CASE(many_requests_on_one_connection_our_node_to_lab) {
    Peers p;
    write_file(p.lab_dir / "SkyShip.jpg", skyship_size, 5);
    write_file(p.lab_dir / "big.bin", big_size, 6);
    write_file(p.lab_dir / "empty.txt", 0);
    p.start_lab();
    p.start_node();
    Child& node = *p.node;
    const std::string L = p.lab_id();

    BOOST_REQUIRE(command(node, "connect " + L, "Peer " + L + " connected.\n"));
    BOOST_TEST(command(node, "request SkyShip.jpg " + L,
                       "SkyShip.jpg found on " + L + ". 85021 bytes received.\n", transfer_timeout));
    BOOST_TEST(command(node, "request missing.txt " + L, "missing.txt not found on " + L + ".\n"));
    BOOST_TEST(command(node, "request empty.txt " + L, "empty.txt found on " + L + ". 0 bytes received.\n"));
    BOOST_TEST(command(node, "sf big.bin", "big.bin found on " + L + "\n"));
    BOOST_TEST(command(node, "request big.bin " + L,
                       "big.bin found on " + L + ". " + std::to_string(big_size) + " bytes received.\n",
                       transfer_timeout));
    BOOST_TEST(command(node, "sf missing.txt", "missing.txt not found on " + L + "\n"));
    BOOST_TEST(command(node, "request -f SkyShip.jpg " + L,  // -f: replace the copy we have
                       "SkyShip.jpg found on " + L + ". 85021 bytes received.\n", transfer_timeout));
    BOOST_TEST(command(node, "sf SkyShip.jpg", "SkyShip.jpg found on " + L + "\n"));
    BOOST_TEST(command(node, "lp", "Node " + p.node_id() + " has connected peers: " + L + " \n"));

    Peers::quit(node);
    for (const char* f : {"SkyShip.jpg", "big.bin", "empty.txt"})
        BOOST_TEST(same_bytes(p.lab_dir / f, p.node_dir / f), f);
    // 8 requests plus our extension probe, which a lab peer answers "not found".
    BOOST_TEST(p.lab->wait_for_count("Received message from", 9));
    BOOST_TEST(count(p.lab->output(), "Received message from") == 9u);
    BOOST_TEST(count(p.lab->output(), "450 :p2p-ext:1 not found.") == 1u);
    BOOST_TEST(count(p.lab->output(), "Connection established with peer") == 1u);
    Peers::quit(*p.lab);
}

BOOST_AUTO_TEST_CASE(many_requests_on_one_connection_lab_to_our_node) {
    Peers p;
    write_file(p.node_dir / "SkyShip.jpg", skyship_size, 7);
    write_file(p.node_dir / "big.bin", big_size, 8);
    write_file(p.node_dir / "empty.txt", 0);
    p.start_node();
    p.start_lab();
    Child& lab = *p.lab;
    const std::string N = p.node_id();

    BOOST_REQUIRE(command(lab, "connect " + N, "Peer " + N + " connected.\n"));
    BOOST_TEST(command(lab, "request SkyShip.jpg " + N,
                       "SkyShip.jpg found on " + N + ". 85021 bytes received.\n", transfer_timeout));
    BOOST_TEST(command(lab, "request missing.txt " + N, "missing.txt not found on " + N + ".\n"));
    BOOST_TEST(command(lab, "request empty.txt " + N, "empty.txt found on " + N + ". 0 bytes received.\n"));
    BOOST_TEST(command(lab, "sf big.bin", "big.bin found on " + N + "\n"));
    BOOST_TEST(command(lab, "request big.bin " + N,
                       "big.bin found on " + N + ". " + std::to_string(big_size) + " bytes received.\n",
                       transfer_timeout));
    BOOST_TEST(command(lab, "sf missing.txt", "missing.txt not found on " + N + "\n"));
    BOOST_TEST(command(lab, "request SkyShip.jpg " + N,  // the lab overwrites its copy
                       "SkyShip.jpg found on " + N + ". 85021 bytes received.\n", transfer_timeout));
    BOOST_TEST(command(lab, "sf SkyShip.jpg", "SkyShip.jpg found on " + N + "\n"));
    BOOST_TEST(command(lab, "lp", "Node " + p.lab_id() + " has connected peers: " + N + " \n"));

    Peers::quit(lab);
    for (const char* f : {"SkyShip.jpg", "big.bin", "empty.txt"})
        BOOST_TEST(same_bytes(p.node_dir / f, p.lab_dir / f), f);
    Child& node = *p.node;
    const std::string L = accepted_peer(node);
    BOOST_TEST(printed(node, "Peer " + L + " closed connection.\n"));
    BOOST_TEST(node.wait_for_count("Received message from " + L + ": ", 8));
    BOOST_TEST(count(node.output(), "Received message from " + L + ": ") == 8u);
    BOOST_TEST(count(node.output(), "Connection established with peer") == 1u);
    BOOST_TEST(node.output().find("Unknown message.") == std::string::npos);
    Peers::quit(node);
}

// Our 40-byte field is cut, where the lab's f'{hint:40}' would overflow: a lab requester still
// reads exactly field + length + data and saves the file whole. It prints the name cut short
// (response[4:-1] of a cut field, then [:-1]); the stream stays in step for the next request.
BOOST_AUTO_TEST_CASE(long_name_lab_requests_from_our_node) {
    Peers p;
    const std::string name = "a_name_longer_than_the_lab_status_field_of_40_bytes.bin";
    write_file(p.node_dir / name, 4096, 9);
    write_file(p.node_dir / "SkyShip.jpg", skyship_size, 10);
    p.start_node();
    p.start_lab();
    Child& lab = *p.lab;
    const std::string N = p.node_id();

    BOOST_REQUIRE(command(lab, "connect " + N, "Peer " + N + " connected.\n"));
    BOOST_TEST(command(lab, "sf " + name, name + " found on " + N + "\n"));
    BOOST_TEST(command(lab, "request " + name + " " + N,
                       name.substr(0, 34) + " on " + N + ". 4096 bytes received.\n"));
    BOOST_TEST(command(lab, "request SkyShip.jpg " + N,
                       "SkyShip.jpg found on " + N + ". 85021 bytes received.\n", transfer_timeout));
    Peers::quit(lab);
    BOOST_TEST(same_bytes(p.node_dir / name, p.lab_dir / name));
    BOOST_TEST(same_bytes(p.node_dir / "SkyShip.jpg", p.lab_dir / "SkyShip.jpg"));
    Peers::quit(*p.node);
}

// The lab's sender pads its REQ status to 40 *characters* and never cuts (f'{hint:40}'): for a
// name over 29 characters "250 f found." runs past 40 bytes. Our node must read the whole text
// before the length, or it takes text for the length and the stream is lost.
BOOST_AUTO_TEST_CASE(long_names_found_on_the_lab_peer_keep_the_stream_in_step) {
    Peers p;
    const std::size_t lengths[] = {25, 29, 30, 31, 45, 60, 250};  // 250 + ".part" is NAME_MAX
    for (std::size_t n : lengths) write_file(p.lab_dir / name_of_length(n, 'f'), 100 + n, unsigned(n));
    p.start_node_connected_to_lab();
    const std::string L = p.lab_id();
    for (std::size_t n : lengths) {
        const std::string name = name_of_length(n, 'f');
        request_then_small(*p.node, L, name,
                           name + " found on " + L + ". " + std::to_string(100 + n) + " bytes received.\n");
        BOOST_TEST(same_bytes(p.lab_dir / name, p.node_dir / name), n);
    }
    p.check_connected_and_quit();
}

// The same for "550 f not found.", which overflows from 26 characters: nothing follows it, so
// text left unread would be taken as the start of the next answer.
BOOST_AUTO_TEST_CASE(long_names_not_found_on_the_lab_peer_keep_the_stream_in_step) {
    Peers p;
    p.start_node_connected_to_lab();
    for (std::size_t n : {25, 26, 29, 30, 45, 60, 255}) {
        const std::string name = name_of_length(n, 'm');
        request_then_small(*p.node, p.lab_id(), name, name + " not found on " + p.lab_id() + ".\n");
        BOOST_TEST(!fs::exists(p.node_dir / name), n);
    }
    p.check_connected_and_quit();
}

// Python pads by characters, and a UTF-8 name has more bytes than characters: the lab sends 44
// bytes for "550 Żółw-ćma.txt not found." (27 characters + 13 spaces), and 44 for the 250.
BOOST_AUTO_TEST_CASE(utf8_name_from_the_lab_peer_keeps_the_stream_in_step) {
    Peers p;
    const std::string name = "Żółw-ćma.txt";
    p.start_node_connected_to_lab();
    request_then_small(*p.node, p.lab_id(), name, name + " not found on " + p.lab_id() + ".\n");
    write_file(p.lab_dir / name, 5000, 14);  // the lab looks for the file at each request
    request_then_small(*p.node, p.lab_id(), name, name + " found on " + p.lab_id() + ". 5000 bytes received.\n");
    BOOST_TEST(same_bytes(p.lab_dir / name, p.node_dir / name));
    p.check_connected_and_quit();
}

BOOST_AUTO_TEST_SUITE_END()
