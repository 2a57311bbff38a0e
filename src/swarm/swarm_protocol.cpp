#include "p2p/swarm/swarm_protocol.hpp"

#include "p2p/lab/file_index.hpp"
#include "p2p/lab/protocol.hpp"

namespace p2p::swarm {
namespace {

bool starts_with_word(std::string_view line, std::string_view verb) {
    return line.size() > verb.size() && line.compare(0, verb.size(), verb) == 0 &&
           (line[verb.size()] == ' ' || line[verb.size()] == '\t');
}

}  // namespace

bool is_swarm_message(std::string_view line) {
    return starts_with_word(line, manifest_verb) || starts_with_word(line, chunk_verb) ||
           line == manifest_verb || line == chunk_verb;
}

std::optional<Request> parse_request(std::string_view line) {
    const auto words = protocol::split_words(line);
    if (words.empty()) return std::nullopt;
    if (words[0] == manifest_verb && words.size() == 2 && FileIndex::is_safe_name(words[1]))
        return Request{Request::Kind::manifest, std::string(words[1]), {}, 0};
    std::uint64_t index = 0;
    if (words[0] == chunk_verb && words.size() == 4 && FileIndex::is_safe_name(words[1]) &&
        protocol::is_hex64(words[2]) && protocol::parse_u64(words[3], index))
        return Request{Request::Kind::chunk, std::string(words[1]), std::string(words[2]), index};
    return std::nullopt;
}

std::string format_manifest_request(std::string_view filename) {
    return std::string(manifest_verb) + ' ' + std::string(filename) + '\n';
}

std::string format_chunk_request(std::string_view filename, std::string_view root, std::uint64_t index) {
    return std::string(chunk_verb) + ' ' + std::string(filename) + ' ' + std::string(root) + ' ' +
           std::to_string(index) + '\n';
}

std::string format_manifest_header() { return "270 "; }
std::string format_not_ready(std::string_view f) { return "570 " + std::string(f) + " not ready.\n"; }
std::string format_not_found(std::string_view f) { return protocol::format_ext_not_found(f); }
std::string format_chunk_header(std::uint64_t index, std::uint64_t length) {
    return "280 " + std::to_string(index) + ' ' + std::to_string(length) + '\n';
}
std::string format_changed(std::string_view f) { return "409 " + std::string(f) + " changed.\n"; }
std::string format_bad_index(std::uint64_t count) { return "416 " + std::to_string(count) + '\n'; }
std::string format_bad_request() { return "400 Bad swarm request.\n"; }

Answer parse_answer(std::string_view received) {
    using K = Answer::Kind;
    const auto nl = received.find('\n');
    if (nl == std::string_view::npos) return {received.size() >= max_answer_line ? K::invalid : K::incomplete};
    const std::string_view line = received.substr(0, nl);
    if (nl + 1 != received.size() || line.size() >= max_answer_line) return {K::invalid};
    const auto words = protocol::split_words(line);
    Answer a{K::invalid};
    if (words.empty()) return a;
    if (words[0] == "270" && line.size() > 4 && line.compare(0, 4, "270 ") == 0) {
        a.kind = K::manifest;  // the manifest's parser checks the rest
        a.manifest_line = std::string(line.substr(4));
    } else if (words[0] == "280" && words.size() == 3 && protocol::parse_u64(words[1], a.index) &&
               protocol::parse_u64(words[2], a.length)) {
        a.kind = K::chunk;
    } else if (words[0] == "416" && words.size() == 2 && protocol::parse_u64(words[1], a.index)) {
        a.kind = K::bad_index;
    } else if (words[0] == "570") {
        a.kind = K::not_ready;
    } else if (words[0] == "560") {
        a.kind = K::not_found;
    } else if (words[0] == "409") {
        a.kind = K::changed;
    }
    return a;
}

}  // namespace p2p::swarm
