// The node's place in a Kademlia DHT (OpenDHT's DhtRunner): announce "this node holds X" under
// a key, withdraw it, and look keys up. The key and value contract is docs/protocol.md's "DHT".
//
// Threads: OpenDHT runs its own (network and scheduler), started by start() and joined by
// stop(). Its callbacks only copy data and signal a condition variable: they never block and
// never call back into the runner (OpenDHT issues #790, #461). OpenDHT's headers stay in
// dht.cpp, so the rest of the node never compiles them.
#pragma once

#include "p2p/dht/dht_network.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace p2p {

struct DhtOptions {
    /// Not 0 (OpenDHT's public network): "p2p1" in ASCII, so our nodes only meet each other.
    static constexpr std::uint32_t default_network = 0x70327031;
    /// How long a stored announcement lives without a refresh from its holder: OpenDHT's own
    /// default. The holder refreshes 10 s before it runs out.
    static constexpr std::chrono::seconds default_expiry{600}, min_expiry{20}, max_expiry{86400};
    /// The OpenDHT value type of our announcements ("p2" in ASCII): its expiry is registered
    /// under this id, and a node applies its own registration to the copies it stores.
    static constexpr std::uint16_t value_type = 0x7032;
    std::uint16_t port = 0;                 ///< UDP; 0: chosen by the system
    /// The numeric IPv4 or IPv6 address to bind (the node's --host), so the DHT listens where
    /// the node does and nowhere else; empty: every address of both families (OpenDHT's default).
    std::string host;
    std::uint32_t network = default_network;
    std::chrono::seconds expiry = default_expiry;
    /// Turns off OpenDHT's per-address request limits: only for a node on a loopback address,
    /// where every node of a test or demo shares one address and would trip them.
    bool unlimited_rates = false;
    std::vector<std::string> bootstrap;     ///< "host:port" each
};

class Dht {
public:
    /// The key text of a shared file and of the presence of nodes (hashed by InfoHash::get).
    static std::string file_key(const std::string& name) { return "p2p-node:file:" + name; }
    static std::string peers_key() { return "p2p-node:peers"; }

    /// `owner`: this node's id text ("host:port"); with a key it makes the value id, so a
    /// re-announce replaces our value instead of adding one.
    explicit Dht(std::string owner);
    ~Dht();
    Dht(const Dht&) = delete;
    Dht& operator=(const Dht&) = delete;

    /// Binds the UDP port and starts OpenDHT's threads; bootstraps from every node given.
    /// Throws std::runtime_error (the IPv4 UDP port is taken, a bootstrap is not host:port).
    void start(const DhtOptions& options);
    /// Stops refreshing everything (cancelPut: the copies expire by themselves), then joins
    /// OpenDHT's threads. Idempotent.
    void stop();
    bool running() const;
    /// The UDP port it is bound to; 0 when it does not run.
    std::uint16_t port() const;

    /// A DHT node to try, learned outside the DHT (an overlay peer's HELLO): OpenDHT adds it to
    /// its bootstrap nodes, pinged now and again whenever the DHT is disconnected. Each endpoint
    /// once, max_offered_nodes at most; the call only queues work (never blocks on the network).
    void add_node(const std::string& host, std::uint16_t port);
    static constexpr std::size_t max_offered_nodes = 256;

    /// Keeps `value` under `key_text` (a permanent put: OpenDHT refreshes it until withdrawn).
    /// The same key again with the same value costs nothing; with another value, replaces it.
    void announce(const std::string& key_text, const std::string& value);
    /// Stops refreshing our value under `key_text` (cancelPut). Copies already stored on other
    /// nodes expire by themselves (OpenDHT's 10 minutes): readers must check a value's holder.
    void withdraw(const std::string& key_text);
    /// The keys we announce now.
    std::vector<std::string> announced() const;

    /// What one lookup cost and when it answered.
    struct LookupStats {
        /// Find and get requests this node sent meanwhile (this lookup's, and any other's at
        /// the time); each is answered by one reply at most.
        std::uint64_t requests = 0;
        long long first_value_ms = -1;  ///< when the first value came; -1: none
        long long ms = 0;               ///< until the lookup returned (see settle in dht.cpp)
    };
    /// Every value text under `key_text` (each once), within `timeout`; ends early when the
    /// lookup is done or `cancel` is set. `stats`, when given, gets what it cost.
    std::vector<std::string> lookup(const std::string& key_text, std::chrono::milliseconds timeout,
                                    const std::atomic<bool>& cancel, LookupStats* stats = nullptr);

    struct Status {
        bool running = false;
        std::uint16_t port = 0;
        std::uint32_t network = 0;
        unsigned good_nodes = 0, dubious_nodes = 0;  ///< IPv4 routing table
        std::size_t announced = 0;
        std::size_t lookups = 0;
        long long median_ms = 0;  ///< of the lookups made; 0 before the first
        /// Lookup requests (OpenDHT's find and get) this node sent and answered since it
        /// started: what searching costs the network, for the benchmark.
        std::uint64_t requests_sent = 0, requests_answered = 0;
    };
    Status status() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};


}  // namespace p2p
