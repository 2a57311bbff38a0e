#include "p2p/node/node_options.hpp"

#include "p2p/net/peer_id.hpp"
#include "p2p/net/rate_limit.hpp"

#include <boost/filesystem/operations.hpp>
#include <boost/program_options.hpp>

#include <cerrno>
#include <iostream>
#include <unistd.h>

namespace p2p {
namespace po = boost::program_options;

namespace {

// The one port rule (p2p::parse_port), in the out-parameter form the checks below read best in.
bool parse_port(const std::string& text, std::uint16_t& port) {
    auto p = p2p::parse_port(text);
    if (p) port = *p;
    return p.has_value();
}

// Reads one line from fd 0 byte by byte: the console reads the same descriptor afterwards,
// so nothing may be buffered here.
bool read_stdin_line(std::string& line) {
    line.clear();
    char c;
    for (;;) {
        ssize_t n = ::read(0, &c, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return !line.empty();
        if (c == '\n') return true;
        line += c;
    }
}

// True when one folder is the other or lies inside it (links resolved as far as they exist).
bool nested(const boost::filesystem::path& a, const boost::filesystem::path& b) {
    boost::system::error_code ec, ec2;
    const std::string ca = boost::filesystem::weakly_canonical(boost::filesystem::absolute(a), ec).string() + "/";
    const std::string cb = boost::filesystem::weakly_canonical(boost::filesystem::absolute(b), ec2).string() + "/";
    if (ec || ec2) return true;  // cannot tell: refuse rather than risk serving the state
    return ca.compare(0, cb.size(), cb) == 0 || cb.compare(0, ca.size(), ca) == 0;
}

// "HOST:PORT[,HOST:PORT...]" (a bare PORT is on `host`) appended to `out`; false with
// "'item': reason" in `why`.
bool parse_peer_list(const std::string& text, const std::string& host, std::vector<PeerId>& out,
                     std::string& why) {
    for (std::size_t at = 0; !text.empty() && at <= text.size();) {
        const std::size_t comma = std::min(text.find(',', at), text.size());
        const std::string item = text.substr(at, comma - at);
        auto peer = parse_peer_id(item, host, why);
        if (!peer) {
            why = "'" + item + "': " + why;
            return false;
        }
        out.push_back(*peer);
        at = comma + 1;
    }
    return true;
}

bool ask_port(std::uint16_t& port) {
    for (;;) {
        std::cout << "Enter your port (e.g., 5000, 5001, etc.): " << std::flush;
        std::string line;
        if (!read_stdin_line(line)) return false;
        auto b = line.find_first_not_of(" \t\r"), e = line.find_last_not_of(" \t\r");
        if (b != std::string::npos && parse_port(line.substr(b, e - b + 1), port)) return true;
        std::cout << "Invalid port '" << line << "': a number from 1 to 65535 is expected.\n";
    }
}

}  // namespace

ParsedOptions& ParsedOptions::fail(const std::string& message) {
    std::cerr << "p2p-node: " << message << "\nTry 'p2p-node --help'.\n";
    return exit(2);
}

ParsedOptions& ParsedOptions::exit(int code) {
    exit_code = code;
    return *this;
}

ParsedOptions parse_options(int argc, char* argv[]) {
    ParsedOptions result;
    std::string port_text, shared, state, scan_range, bootstrap, dht_port, dht_bootstrap, dht_network;
    long long dht_expiry = DhtOptions::default_expiry.count();
    NodeConfig& config = result.config;
    // Signed on purpose: program_options would wrap "-1" into a huge unsigned value.
    long long ban_time = 600, idle_seconds = 300, max_peers = 64, neighbours = 8, peer_max_age = 7 * 24 * 3600;
    po::options_description desc(
        "p2p-node: a peer-to-peer file-sharing node (the lab's protocol, in C++)\n\n"
        "Usage: p2p-node [options]\n\nOptions");
    desc.add_options()
        ("help,h", "show this help and exit")
        ("port,p", po::value(&port_text), "port to listen on (asked for when missing; 0: chosen by the system, needs --shared)")
        ("host", po::value(&config.host)->default_value("127.0.0.1"),
         "numeric IPv4 or IPv6 address to listen on and advertise; a bare peer port means this host")
        ("shared", po::value(&shared), "shared folder (default: shared/<port>, created if missing)")
        ("state", po::value(&state),
         "the node's own files, never served: the known-peer list (default: state/<port>; "
         "with --port 0 none unless given)")
        ("scan-range", po::value(&scan_range)->default_value("5000-5009"), "ports probed by scan: LO-HI, P, or a list of those (5000-5003,5007)")
        ("max-peers", po::value(&max_peers)->default_value(64),
         "handler threads at most; more peers get a short 'busy' answer")
        ("idle-timeout", po::value(&idle_seconds)->default_value(300),
         "seconds of silence before an incoming peer is dropped (0: never)")
        ("bootstrap", po::value(&bootstrap),
         "overlay nodes to start from: HOST:PORT[,HOST:PORT...] (a bare PORT is on --host)")
        ("neighbours", po::value(&neighbours)->default_value(8),
         "overlay links this node opens by choice (0: only answer links made to it)")
        ("peer-max-age", po::value(&peer_max_age)->default_value(7 * 24 * 3600),
         "seconds a known peer is kept without answering us")
        ("secret", po::value<std::string>(),
         "FILE holding the network secret: only nodes that prove they hold it are served, and "
         "only they are used (docs/security.md)")
        ("new-secret", po::value<std::string>(), "write a new random network secret to FILE and exit")
        ("ban-time", po::value(&ban_time)->default_value(600),
         "seconds a peer that sent data failing its SHA-256 is banned the first time (doubling "
         "with each repeat, at most a day)")
        ("max-upload-rate", po::value<std::string>()->value_name("RATE"),
         "files served to all peers together: e.g. 20M (bytes per second, K/M/G = 1024^n); "
         "0: unlimited (default)")
        ("max-download-rate", po::value<std::string>()->value_name("RATE"),
         "all downloads together: e.g. 20M (bytes per second, K/M/G = 1024^n); 0: unlimited (default)")
        ("dht", po::value(&dht_port)->value_name("PORT"),
         "join a DHT (OpenDHT) on this UDP port (0: chosen by the system, printed); files are "
         "announced there and `search` asks it too (docs/protocol.md, \"The DHT\")")
        ("dht-bootstrap", po::value(&dht_bootstrap)->value_name("HOST:PORT[,...]"),
         "DHT nodes to start from (UDP; a bare PORT is on --host)")
        ("dht-network", po::value(&dht_network)->value_name("N"),
         "the DHT's network id, decimal or 0x-hex, not 0 (the public network); default 0x70327031")
        ("dht-expiry", po::value(&dht_expiry)->value_name("SECONDS"),
         "how long our DHT node keeps an announcement its holder stopped refreshing (a removed "
         "file, a node that quit), 20 to 86400; default 600. Every node of a network should use "
         "the same")
        ("trace", "print every wire message sent and received: direction, peer, the bytes and "
         "what they mean")
        ("quiet,q", "do not print server-side lines (connections, requests, responses, traces)")
        ("verbose,v", "also print the background lines the lab has none of (a manifest ready, the node id "
         "a peer proved); they always go to <state>/node.log");
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, desc), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "p2p-node: " << e.what() << "\nTry 'p2p-node --help'.\n";
        return result.exit(2);
    }
    if (vm.count("help")) {
        std::cout << desc << '\n'
                  << "At the prompt, 'help' lists the lab's commands and 'help more' the others (README.md).\n";
        return result.exit(0);
    }
    if (vm.count("new-secret")) {
        const std::string file = vm["new-secret"].as<std::string>();
        std::string error;
        if (!NetworkSecret::new_file(file, error)) {
            std::cerr << "p2p-node: " << error << '\n';
            return result.exit(1);
        }
        std::cout << "A new network secret is in " << file << " (owner-only). Give a copy to every node of "
                     "your network, each started with --secret " << file << ".\n";
        return result.exit(0);
    }
    if (vm.count("secret")) {
        std::string error;
        config.secret = NetworkSecret::load(vm["secret"].as<std::string>(), error);
        if (!config.secret) {  // as a loose identity key: the file, not the command line, is wrong
            std::cerr << "p2p-node: cannot use the network secret: " << error << '\n';
            return result.exit(1);
        }
    }
    {
        auto ports = parse_port_list(scan_range, 1024);
        if (!ports)
            return result.fail("invalid --scan-range '" + scan_range + "': expected LO-HI, P or a list of those "
                               "(5000-5003,5007), 1 <= LO <= HI <= 65535, at most 1024 ports");
        config.scan_ports = std::move(*ports);
    }
    {
        std::string why;
        auto host = parse_host(config.host, why);
        if (!host) return result.fail("invalid --host '" + config.host + "': " + why);
        config.host = *host;
    }
    if (max_peers < 1 || max_peers > 10000) return result.fail("--max-peers must be from 1 to 10000");
    if (neighbours < 0 || neighbours > 64) return result.fail("--neighbours must be from 0 to 64");
    if (peer_max_age < 1 || peer_max_age > 86400LL * 3650)
        return result.fail("--peer-max-age must be from 1 to 315360000 seconds");
    config.known_peer_max_age = std::chrono::seconds(peer_max_age);
    config.overlay.neighbours = static_cast<std::size_t>(neighbours);
    config.trace = vm.count("trace") > 0;
    if (ban_time < 1 || ban_time > 24 * 3600) return result.fail("--ban-time must be from 1 to 86400 seconds");
    config.ban_time = std::chrono::seconds(ban_time);
    if (config.trace && vm.count("quiet")) return result.fail("--trace and --quiet exclude each other (trace lines are server lines)");
    if (std::string why; !parse_peer_list(bootstrap, config.host, config.overlay.bootstrap, why))
        return result.fail("invalid --bootstrap peer " + why);
    if (vm.count("dht")) {
        DhtOptions dht;
        if (!parse_port(dht_port, dht.port) && dht_port != "0")
            return result.fail("invalid --dht '" + dht_port + "': a UDP port from 0 to 65535 is expected");
        if (dht_port == "0") dht.port = 0;
        if (vm.count("dht-network") && !parse_dht_network(dht_network, dht.network))
            return result.fail("invalid --dht-network '" + dht_network + "': 1 to 4294967295 (decimal or 0x-hex) is expected");
        if (dht_expiry < DhtOptions::min_expiry.count() || dht_expiry > DhtOptions::max_expiry.count())
            return result.fail("--dht-expiry must be from 20 to 86400 seconds");
        dht.expiry = std::chrono::seconds(dht_expiry);
        std::vector<PeerId> nodes;
        if (std::string why; !parse_peer_list(dht_bootstrap, config.host, nodes, why))
            return result.fail("invalid --dht-bootstrap node " + why);
        for (const auto& n : nodes) dht.bootstrap.push_back(n.to_string());
        config.dht = dht;
    } else if (vm.count("dht-bootstrap") || vm.count("dht-network") || vm.count("dht-expiry")) {
        return result.fail("--dht-bootstrap, --dht-network and --dht-expiry need --dht PORT");
    }
    for (auto [name, rate] : {std::pair{"max-upload-rate", &config.max_upload_rate},
                              std::pair{"max-download-rate", &config.max_download_rate}}) {
        if (!vm.count(name)) continue;
        const std::string text = vm[name].as<std::string>();
        std::string why;
        auto parsed = parse_rate(text, &why);
        if (!parsed) return result.fail("invalid --" + std::string(name) + " '" + text + "': " + why);
        *rate = *parsed;
    }
    if (idle_seconds < 0 || idle_seconds > 86400 * 365)
        return result.fail("--idle-timeout must be from 0 to 31536000 seconds");
    config.max_sessions = static_cast<std::size_t>(max_peers);
    config.session.idle_timeout = std::chrono::seconds(idle_seconds);
    if (vm.count("port")) {
        // 0: a port the system chooses, printed in "Node listening on host:port" (tests use it).
        if (port_text == "0") {
            if (shared.empty()) return result.fail("--port 0 (a port the system chooses) needs --shared DIR");
            config.port = 0;
        } else if (!parse_port(port_text, config.port))
            return result.fail("invalid --port '" + port_text + "': a number from 0 to 65535 is expected");
    } else if (!ask_port(config.port)) {
        std::cerr << "\np2p-node: no port given.\n";
        return result.exit(2);
    }
    config.shared_dir = shared.empty() ? boost::filesystem::path("shared") / std::to_string(config.port)
                                       : boost::filesystem::path(shared);
    boost::system::error_code fec;
    boost::filesystem::create_directories(config.shared_dir, fec);
    if (!boost::filesystem::is_directory(config.shared_dir)) {
        std::cerr << "p2p-node: cannot use shared folder " << config.shared_dir.string() << ": "
                  << (fec ? fec.message() : "not a directory") << '\n';
        return result.exit(1);
    }

    std::string& state_note = result.state_note;  // printed once the console is up
    if (!state.empty() || config.port != 0) {
        config.state_dir = state.empty() ? boost::filesystem::path("state") / std::to_string(config.port)
                                         : boost::filesystem::path(state);
        // Nothing in the state folder may ever be served, and a download must never land in it.
        if (nested(config.state_dir, config.shared_dir)) {
            if (!state.empty())
                return result.fail("the state folder " + config.state_dir.string() + " and the shared folder " +
                            config.shared_dir.string() + " must not contain one another");
            state_note = "Known peers are not kept: the default state folder " +
                         config.state_dir.string() + " would be inside the shared folder; use --state DIR.";
            config.state_dir.clear();
        }
    }
    if (!config.state_dir.empty()) {
        boost::filesystem::create_directories(config.state_dir, fec);
        if (!boost::filesystem::is_directory(config.state_dir)) {
            std::cerr << "p2p-node: cannot use state folder " << config.state_dir.string() << ": "
                      << (fec ? fec.message() : "not a directory") << '\n';
            return result.exit(1);
        }
    }

    // Who this node is: its key and certificate in the state folder (made at the first start),
    // or, without one, a new identity each start.
    {
        std::string error;
        config.identity = config.state_dir.empty() ? Identity::ephemeral(error)
                                                   : Identity::load_or_create(config.state_dir, error);
        if (!config.identity) {
            std::cerr << "p2p-node: cannot use the node's identity: " << error << '\n';
            return result.exit(1);
        }
    }
    result.quiet = vm.count("quiet") > 0;
    result.verbose = vm.count("verbose") > 0;
    return result;
}

}  // namespace p2p
