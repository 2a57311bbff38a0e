#include "p2p/swarm/swarm_server.hpp"

#include "p2p/swarm/indexer.hpp"
#include "p2p/swarm/manifest.hpp"
#include "p2p/swarm/swarm_protocol.hpp"

namespace p2p {

SwarmReply answer_swarm_request(std::string_view line, const FileIndex& index, const Indexer* indexer) {
    SwarmReply reply;
    const auto request = swarm::parse_request(line);
    if (!request) {
        reply.header = swarm::format_bad_request();
        reply.log = "400 Bad swarm request.";
        reply.close = true;
        return reply;
    }
    const std::string& name = request->filename;
    auto file = index.open(name);
    if (!file) {
        reply.header = swarm::format_not_found(name);
        reply.log = "560 " + name + " not found.";
        return reply;
    }
    // The manifest of exactly the version now open: a file changed since it was hashed has none.
    const auto manifest = indexer ? indexer->find(*file) : nullptr;
    if (request->kind == swarm::Request::Kind::manifest) {
        if (!manifest) {
            reply.header = swarm::format_not_ready(name);
            reply.log = "570 " + name + " not ready (its manifest is being computed).";
            return reply;
        }
        reply.header = swarm::format_manifest_header() + serialize(*manifest);
        reply.log = "270 " + name + ": manifest of " + std::to_string(manifest->chunk_count()) +
                    (manifest->chunk_count() == 1 ? " chunk, root " : " chunks, root ") +
                    manifest->root_hex().substr(0, 16) + "...";
        return reply;
    }
    if (!manifest || manifest->root_hex() != request->root) {
        reply.header = swarm::format_changed(name);
        reply.log = "409 " + name + " changed (not the version asked for).";
        return reply;
    }
    if (request->index >= manifest->chunk_count()) {
        reply.header = swarm::format_bad_index(manifest->chunk_count());
        reply.log = "416 " + name + ": no chunk " + std::to_string(request->index) + ".";
        return reply;
    }
    const std::size_t i = static_cast<std::size_t>(request->index);
    reply.offset = manifest->chunk_offset(i);
    reply.length = manifest->chunk_length(i);
    reply.header = swarm::format_chunk_header(i, reply.length);
    reply.body.emplace(std::move(*file));
    return reply;
}

}  // namespace p2p
