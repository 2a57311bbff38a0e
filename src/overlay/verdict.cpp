#include "p2p/overlay/verdict.hpp"

#include "p2p/lab/protocol.hpp"
#include "p2p/net/peer_id.hpp"

namespace p2p::verdict {

std::string format_accepted() { return "ACCEPTED\n"; }

std::string format_refused(const Refusal& refusal) {
    switch (refusal.code) {
    case Refusal::Code::pinned: return "REFUSED pinned " + refusal.address + "\n";
    case Refusal::Code::banned: return "REFUSED banned " + std::to_string(refusal.seconds) + "\n";
    }
    return "REFUSED\n";
}

std::optional<Verdict> parse(std::string_view line) {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (line == "ACCEPTED") return Verdict{true, std::nullopt};
    const auto words = protocol::split_words(line);
    if (words.size() != 3 || words[0] != "REFUSED") return std::nullopt;
    if (words[1] == "pinned") {
        std::string why;
        const auto address = parse_peer_id(words[2], "", why);
        if (!address || address->to_string() != words[2]) return std::nullopt;
        return Verdict{false, Refusal{Refusal::Code::pinned, std::string(words[2]), 0}};
    }
    std::uint64_t seconds = 0;
    if (words[1] == "banned" && protocol::parse_u64(words[2], seconds) && seconds > 0 && seconds <= 10 * 365 * 86400ULL)
        return Verdict{false, Refusal{Refusal::Code::banned, {}, seconds}};
    return std::nullopt;
}

std::string explain(const Refusal& refusal) {
    switch (refusal.code) {
    case Refusal::Code::pinned:
        return "it has another node id pinned for " + refusal.address + " (it must 'unpin " + refusal.address + "')";
    case Refusal::Code::banned: return "it bans this node for another " + std::to_string(refusal.seconds) + " s";
    }
    return "it refused this node";
}

std::optional<std::string> describe(std::string_view line) {
    const auto v = parse(line);
    if (!v) return std::nullopt;
    if (v->accepted) return std::string("verdict: this node is accepted");
    return "verdict: refused, " + explain(*v->refusal);
}

}  // namespace p2p::verdict
