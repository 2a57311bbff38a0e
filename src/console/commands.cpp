#include "p2p/console/commands.hpp"

#include "p2p/lab/file_index.hpp"

#include <sstream>

namespace p2p {

std::optional<PeerId> ConsoleContext::peer_id(const std::string& arg, const std::string& usage_line) const {
    std::string why;
    auto peer = parse_peer_id(arg, node.config().host, why);
    if (!peer) {
        out.line("Invalid peer_id '" + arg + "': " + why + ".");
        out.line(usage_line);
    }
    return peer;
}

bool ConsoleContext::valid_filename(const std::string& name) const {
    if (FileIndex::is_safe_name(name)) return true;
    out.line("Invalid filename '" + name + "': a plain file name is expected (no '/', '\\', "
             "'..', control characters or '" + std::string(FileIndex::partial_suffix) +
             "' ending, at most 255 bytes).");
    return false;
}

long long ConsoleContext::score(const PeerId& peer) const {
    auto rec = node.reputation().find(reputation_key(node.pins(), peer));
    return rec ? rec->score() : 0LL;
}

std::vector<std::string> split_words(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    return words;
}

}  // namespace p2p
