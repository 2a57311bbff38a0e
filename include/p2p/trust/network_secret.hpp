// A network secret (--secret FILE): after TLS, each side proves it holds the secret with an
// HMAC-SHA256 keyed by it over a value exported from this very TLS session
// (SSL_export_keying_material) and a label per role. The proof is bound to the connection: a
// recorded one fails on any other session, a reflected one fails on the other role's label,
// and a relay in the middle holds two sessions with two different exported values.
//
//   connecting side -> "PROOF <64 hex>\n"   (label "client")
//   accepting side  <- "PROOF <64 hex>\n"   (label "server"), only once the first one checked
#pragma once

#include "p2p/net/tls.hpp"

#include <boost/filesystem/path.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace p2p {

class NetworkSecret {
public:
    using Role = TlsLayer::Role;  ///< the connecting side proves first, as the TLS client
    /// The capability our HELLO lists when a secret is set: a node without one is told apart
    /// before any proof is attempted.
    static constexpr std::string_view capability = "secret/1";

    /// Reads FILE (64 hex characters, as new_file() writes, owner-only). Null with `error`.
    static std::unique_ptr<NetworkSecret> load(const boost::filesystem::path& file, std::string& error);
    /// Writes a new random secret to FILE (owner-only; never over an existing file).
    static bool new_file(const boost::filesystem::path& file, std::string& error);

    /// "PROOF <hex>\n" for `role` on this TLS session; empty if the session cannot export.
    std::string proof_line(const TlsLayer& tls, Role role) const;
    /// Whether `line` is the proof the peer in `role` must send on this session (constant time).
    bool check(const TlsLayer& tls, Role role, std::string_view line) const;

    /// What a PROOF line means, for --trace; nullopt for any other line. Pure.
    static std::optional<std::string> describe(std::string_view line);

private:
    explicit NetworkSecret(std::string key) : key_(std::move(key)) {}
    std::optional<std::string> proof(const TlsLayer& tls, Role role) const;  ///< raw 32 bytes
    std::string key_;  ///< the 32 secret bytes
};

}  // namespace p2p
