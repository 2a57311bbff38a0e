#include "p2p/swarm/swarm_client.hpp"

#include "p2p/lab/protocol.hpp"
#include "p2p/util/sha256.hpp"
#include "p2p/swarm/swarm_protocol.hpp"
#include "p2p/lab/trace.hpp"

#include <algorithm>

namespace p2p {
namespace {

ReadStatus read_answer(Socket& socket, swarm::Answer& answer, const ReadLimits& limits) {
    std::string line;
    if (auto st = read_line(socket, line, swarm::max_answer_line, limits); st != ReadStatus::ok) return st;
    answer = swarm::parse_answer(line);
    if (answer.kind == swarm::Answer::Kind::incomplete) answer.kind = swarm::Answer::Kind::invalid;
    trace(socket, Trace::Dir::received, line);
    return ReadStatus::ok;
}

bool send_line(Socket& socket, const std::string& line) {
    std::error_code ec;
    socket.write_all(line, ec);
    if (!ec) trace(socket, Trace::Dir::sent, line);
    return !ec;
}

}  // namespace

ManifestAnswer fetch_manifest(Socket& socket, const std::string& name, const ReadLimits& limits, bool keep_body,
                              std::size_t max_chunks) {
    using K = ManifestAnswer::Kind;
    if (!send_line(socket, swarm::format_manifest_request(name))) return {K::lost, nullptr, {}, ReadStatus::closed};
    swarm::Answer answer{swarm::Answer::Kind::invalid};
    if (auto st = read_answer(socket, answer, limits); st != ReadStatus::ok) return {K::lost, nullptr, {}, st};
    switch (answer.kind) {
    case swarm::Answer::Kind::not_ready: return {K::not_ready};
    case swarm::Answer::Kind::not_found: return {K::not_found};
    case swarm::Answer::Kind::manifest: break;
    default: return {K::invalid_answer};
    }
    const auto body = manifest_body_length(answer.manifest_line);
    const auto words = protocol::split_words(answer.manifest_line);
    if (!body || words.size() != 4 || *body / 32 > max_chunks) return {K::invalid_answer};
    ManifestAnswer out{K::ready, nullptr, std::string(words[2])};
    std::string bytes = answer.manifest_line + '\n';
    const std::size_t line_size = bytes.size();
    if (keep_body) {
        bytes.resize(line_size + *body);
        if (auto st = read_exact(socket, bytes.data() + line_size, *body, limits); st != ReadStatus::ok)
            return {K::lost, nullptr, {}, st};
        auto manifest = parse_manifest(bytes);
        if (!manifest || manifest->root_hex() != out.root) return {K::invalid_answer};
        out.manifest = std::make_shared<const Manifest>(std::move(*manifest));
    } else {
        char sink[64 * 1024];
        for (std::size_t left = *body; left > 0;) {
            const std::size_t n = std::min(left, sizeof sink);
            if (auto st = read_exact(socket, sink, n, limits); st != ReadStatus::ok) return {K::lost, nullptr, {}, st};
            left -= n;
        }
    }
    trace_note(socket, Trace::Dir::received, "manifest: " + std::to_string(*body / 32) + " chunk digests");
    return out;
}

bool send_chunk_request(Socket& socket, const std::string& name, const Manifest& manifest, std::size_t index) {
    return send_line(socket, swarm::format_chunk_request(name, manifest.root_hex(), index));
}

ChunkAnswer read_chunk(Socket& socket, const Manifest& manifest, std::size_t index, char* buffer,
                       const ReadLimits& limits) {
    using K = ChunkAnswer::Kind;
    swarm::Answer answer{swarm::Answer::Kind::invalid};
    if (auto st = read_answer(socket, answer, limits); st != ReadStatus::ok) return {K::lost, st};
    // Gone or changed there: either way this version cannot come from it any more.
    if (answer.kind == swarm::Answer::Kind::changed || answer.kind == swarm::Answer::Kind::not_found)
        return {K::changed};
    const std::uint32_t length = manifest.chunk_length(index);
    if (answer.kind != swarm::Answer::Kind::chunk || answer.index != index || answer.length != length)
        return {K::invalid_answer};
    if (auto st = read_exact(socket, buffer, length, limits); st != ReadStatus::ok) return {K::lost, st};
    trace_note(socket, Trace::Dir::received, "chunk data: " + std::to_string(length) + " bytes");
    return {K::received};
}

bool chunk_matches(const Manifest& manifest, std::size_t index, const char* data) {
    Sha256 hash;
    hash.update(data, manifest.chunk_length(index));
    return hash.digest() == manifest.chunks[index];
}

}  // namespace p2p
