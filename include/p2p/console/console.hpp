// The blocking console of the main thread: a line -> a call on the node -> printed lines.
#pragma once

#include "p2p/node/node.hpp"
#include "p2p/util/output.hpp"
#include "p2p/net/peer_id.hpp"

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace p2p {

class LineEditor;

class Console {
public:
    /// Reads commands from `input_fd`; a byte on `wake_fd` (the signal pipe) ends the loop.
    Console(Node& node, Output& output, int input_fd, int wake_fd = -1);
    ~Console();

    /// Prints the usage, then runs commands until quit, end of input or a wake-up.
    void run();

    /// Runs one command line; false when it was `quit`.
    bool execute(const std::string& line);

    /// The eight usage lines of the lab, then ours.
    static const std::vector<std::string>& usage();

    /// Tab completion: the words starting with `word` that may follow `before_word` (the line
    /// before it): a command name first, then a peer id (known or connected) where one goes.
    std::vector<std::string> completions(const std::string& before_word, const std::string& word);

private:
    /// execute() without the catch-all.
    bool dispatch(const std::string& line);
    /// Reads the next line; false at end of input or on a wake-up.
    bool read_line(std::string& line);
    /// read_line() through the line editor (input and output on a terminal).
    bool read_edited_line(std::string& line);
    void print_usage();
    /// `scan` (the lab's range on our host) or `scan HOSTS[:PORTS]` (non-empty `targets`).
    void scan(const std::string& targets);
    void list_peers();
    /// `peers`: every known peer, connected or not, and when it last answered.
    void list_known_peers();
    /// `search F [ttl]`: floods a query through the overlay, prints each holder once.
    void flood_search(const std::string& name, const std::string& ttl_text);
    /// `topology [FILE]`: the overlay as Graphviz DOT, printed or written.
    void topology(const std::string& file);
    /// `limit`: both bandwidth limits; `limit up|down RATE`: sets one (rate_limit.hpp).
    void limit(const std::string& direction, const std::string& rate_text);
    void connect(const std::string& arg);
    void disconnect(const std::string& arg);
    void unpin(const std::string& arg);
    void ban(const std::string& arg, const std::string& seconds);
    void unban(const std::string& arg);
    void search(const std::string& name);
    /// True when done (the file is here, kept, or the disk or the user stopped it); false when
    /// another source may be tried.
    bool request(const std::string& name, const std::string& peer_arg, bool overwrite);
    /// `request <filename>`: searches the overlay, then asks the holders, best score first.
    void request_from_overlay(const std::string& name);
    /// `get [-f] <filename> [peer ...]`: a swarm download from the given peers or the holders
    /// a search finds.
    void get(const std::vector<std::string>& args);
    /// Searches the overlay, printing each holder; the holders best score first.
    std::vector<PeerId> find_holders(const std::string& name);
    long long score(const PeerId& peer);
    /// With the DHT on: looks `name` up, asks each holder named there that is not in `seen`,
    /// prints and returns those that have it (added to `seen`).
    std::vector<PeerId> dht_holders(const std::string& name, std::set<PeerId>& seen);
    /// `dht`: port, network, nodes, values announced, lookups.
    void dht_status();
    /// Parses a peer id (a bare port is on our host), printing why it is not one.
    std::optional<PeerId> peer_id(const std::string& arg, const std::string& usage_line);
    /// A peer as the lab shows it: the port alone on our own host, host:port otherwise.
    std::string shown(const PeerId& peer) const { return peer.display(node_.config().host); }
    bool valid_filename(const std::string& name);

    Node& node_;
    Output& out_;
    int input_fd_;
    int wake_fd_;
    std::string pending_;  ///< input bytes after the last complete line
    bool eof_ = false;
    std::unique_ptr<LineEditor> editor_;  ///< only while run() reads a terminal
};

}  // namespace p2p
