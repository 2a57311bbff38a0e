// The accepting side's last word in the handshake (handshake.hpp, step 5): when both HELLOs
// list accept/1, it says whether it accepts the connecting node once it knows who that is (after
// TLS and the network secret's proof), so a refused node learns why instead of taking the
// connection for open:
//
//   <- "ACCEPTED\n"
//   <- "REFUSED pinned <host:port>\n"   another node id is pinned for that address (ours, as seen)
//   <- "REFUSED banned <seconds>\n"     it bans us for that much longer
//
// A lab peer never says HELLO, so it never gets one. Pure: format, parse, explain; no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace p2p::verdict {

constexpr std::string_view capability = "accept/1";

struct Refusal {
    enum class Code { pinned, banned } code;
    std::string address;         ///< pinned: the address whose pin differs
    std::uint64_t seconds = 0;   ///< banned: how much longer
};

std::string format_accepted();
std::string format_refused(const Refusal& refusal);

struct Verdict {
    bool accepted = false;
    std::optional<Refusal> refusal;  ///< set when !accepted
};
/// One verdict line (with or without its '\n'); nullopt when the line is none of the forms.
std::optional<Verdict> parse(std::string_view line);

/// What the refused side prints after "Peer X refused us: ".
std::string explain(const Refusal& refusal);
/// What a verdict line means, for --trace; nullopt for any other line.
std::optional<std::string> describe(std::string_view line);

}  // namespace p2p::verdict
