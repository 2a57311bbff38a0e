#include "p2p/overlay/handshake.hpp"

#include "p2p/lab/client.hpp"
#include "p2p/lab/trace.hpp"

namespace p2p {
namespace ov = overlay;

namespace {

// A HELLO line is short: an id and a few capability names.
constexpr std::size_t max_hello_size = 256;

// Reads one line, byte by byte: nothing after it is ever taken from the socket.
std::optional<std::string> read_line(Socket& socket, const ReadLimits& limits) {
    std::string line;
    while (line.empty() || line.back() != '\n') {
        if (line.size() >= max_hello_size) return std::nullopt;
        char c;
        if (read_exact(socket, &c, 1, limits) != ReadStatus::ok) return std::nullopt;
        line += c;
    }
    return line;
}

// Step 4, the connecting side: our proof first, then the peer's, both bound to this session.
// `refused_us`: it closed on our proof (another secret), rather than failing to prove its own.
bool prove_secret(Socket& socket, const NetworkSecret& secret, const ReadLimits& limits, std::string& error,
                  bool& refused_us) {
    const std::string proof = secret.proof_line(*socket.tls(), NetworkSecret::Role::client);
    std::error_code ec;
    if (proof.empty()) {
        error = "the proof could not be made";
        return false;
    }
    socket.write_all(proof, ec);
    if (ec) {
        error = "the proof could not be sent";
        return false;
    }
    trace(socket, Trace::Dir::sent, proof);
    const auto line = read_line(socket, limits);
    if (line) trace(socket, Trace::Dir::received, *line);
    if (!line || !secret.check(*socket.tls(), NetworkSecret::Role::server, *line)) {
        error = line ? "it did not prove the network secret"
                     : "it refused our proof of the network secret (another secret?)";
        refused_us = !line;
        return false;
    }
    return true;
}

// Step 5: the accepting side's verdict. False: refused (the reason in `result`) or no verdict.
bool read_verdict(Socket& socket, const ReadLimits& limits, Handshake& result) {
    const auto line = read_line(socket, limits);
    if (line) trace(socket, Trace::Dir::received, *line);
    const auto v = line ? verdict::parse(*line) : std::nullopt;
    if (v && v->accepted) return true;
    if (v) {
        result.refused_us = true;
        result.error = verdict::explain(*v->refusal);
    }
    return false;
}

}  // namespace

std::string capabilities(const Capabilities& on) {
    // In the order peers have always seen them; a DHT's port is known only once it runs.
    const std::uint16_t dht_port = on.dht ? on.dht->port() : 0;
    return std::string(ov::capability) + "," + std::string(verdict::capability) +
           (on.tls ? "," + std::string(tls_capability) : "") +
           (on.secret ? "," + std::string(NetworkSecret::capability) : "") +
           (dht_port ? "," + std::string(dht_capability) + "=" + std::to_string(dht_port) : "");
}

std::string capabilities(const TlsContext* tls, const NetworkSecret* secret, const Dht* dht) {
    Capabilities on;
    on.tls = tls;
    on.secret = secret;
    on.dht = const_cast<Dht*>(dht);  // only its port is read
    return capabilities(on);
}

bool wants_tls(const TlsContext* tls, std::string_view peer_capabilities) {
    return tls && has_capability(peer_capabilities, tls_capability);
}

Handshake handshake(Socket& socket, const PeerId& self, const ReadLimits& limits, const Capabilities& on) {
    const TlsContext* tls = on.tls;
    const NetworkSecret* secret = on.secret;
    Handshake result;
    switch (probe_extension(socket, limits)) {
    case SearchOutcome::found: break;
    case SearchOutcome::not_found:
        if (secret) {  // it can prove nothing: nothing more is sent to it
            result.error = "a lab peer cannot prove the network secret";
            return result;
        }
        result.kind = Handshake::Kind::lab;
        return result;
    case SearchOutcome::busy:
        result.refused_us = true;
        result.error = "it is busy (it serves as many peers as it takes); try again later";
        return result;
    default: return result;
    }
    std::error_code ec;
    const std::string hello = ov::format_hello(self, capabilities(on));
    socket.write_all(hello, ec);
    if (ec) return result;
    trace(socket, Trace::Dir::sent, hello);
    const auto line = read_line(socket, limits);
    if (!line) return result;  // it refused our HELLO (wrong host?) or went away
    trace(socket, Trace::Dir::received, *line);
    ov::Message answer = ov::parse(*line);
    if (answer.kind != ov::Message::Kind::hello) return result;
    const bool peer_has_secret = has_capability(answer.hello.capabilities, NetworkSecret::capability);
    if (secret && !(peer_has_secret && wants_tls(tls, answer.hello.capabilities))) {
        result.error = "it has no network secret";
        return result;
    }
    if (!secret && peer_has_secret) {
        result.error = "its network has a secret, and this node has none (--secret FILE)";
        result.refused_us = true;  // it will serve nothing to a node that cannot prove one
        return result;
    }
    if (wants_tls(tls, answer.hello.capabilities)) {
        if (!socket.start_tls(*tls, TlsLayer::Role::client, tls_handshake_timeout, result.error, limits.cancel))
            return result;
        result.node_id = socket.tls()->peer_id();
        trace_note(socket, Trace::Dir::received, socket.tls()->description() + ", node id " + result.node_id);
    }
    if (secret && !prove_secret(socket, *secret, limits, result.error, result.refused_us)) {
        result.node_id.clear();  // unproven: nothing of it may be kept (no pin)
        return result;
    }
    if (has_capability(answer.hello.capabilities, verdict::capability) &&
        !read_verdict(socket, limits, result)) {
        result.node_id.clear();  // refused: nothing of it is kept either
        return result;
    }
    result.kind = Handshake::Kind::ours;
    result.peer = std::move(answer.hello);
    return result;
}

bool accept_hello(const ov::Hello& hello, const std::string& remote_host, const PeerId& self,
                  PeerHello& peer) {
    if (peer.said || hello.id == self) return false;
    peer.said = true;
    peer.capabilities = hello.capabilities;
    if (hello.id.host == remote_host) peer.id = hello.id;
    return true;
}

namespace {

// Calls `f` on each comma-separated item of `caps` until it returns true; true if one did.
template <class F>
bool any_item(std::string_view caps, F f) {
    while (!caps.empty()) {
        const auto comma = caps.find(',');
        if (f(caps.substr(0, comma))) return true;
        if (comma == std::string_view::npos) break;
        caps.remove_prefix(comma + 1);
    }
    return false;
}

}  // namespace

bool has_capability(std::string_view caps, std::string_view capability) {
    return any_item(caps, [&](std::string_view item) { return item == capability; });
}

std::optional<std::string_view> capability_value(std::string_view caps, std::string_view capability) {
    std::optional<std::string_view> value;
    any_item(caps, [&](std::string_view item) {
        if (item.size() <= capability.size() || item.substr(0, capability.size()) != capability ||
            item[capability.size()] != '=')
            return false;
        value = item.substr(capability.size() + 1);
        return true;
    });
    return value;
}

std::optional<std::uint16_t> dht_port_of(std::string_view caps) {
    const auto value = capability_value(caps, dht_capability);
    return value ? parse_port(*value) : std::nullopt;
}

void offer_dht(Dht* dht, const std::string& host, std::string_view caps) {
    if (!dht) return;
    if (const auto port = dht_port_of(caps)) dht->add_node(host, *port);
}

}  // namespace p2p
