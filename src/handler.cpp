#include "p2p/handler.hpp"

#include <limits>

namespace p2p {

Reply handle_request(const protocol::Request& request, const FileIndex& index) {
    namespace pr = protocol;
    const std::string& name = request.filename;
    auto file = index.open(name);
    Reply reply;
    if (request.verb == pr::Verb::search) {
        reply.header = pr::format_search_answer(file.has_value(), name);
        reply.log = reply.header;
        return reply;
    }
    if (!file) {
        reply.header = pr::format_status_field(false, name);
        reply.log = "550 " + name + " not found.";
        return reply;
    }
    if (file->size() > std::numeric_limits<std::uint32_t>::max()) {
        // The lab's 4-byte length would wrap: refuse clearly instead of sending a wrong length.
        reply.log = "550 " + name + " too large.";
        reply.header = pr::pad_status_field(reply.log);
        return reply;
    }
    auto length = static_cast<std::uint32_t>(file->size());
    auto prefix = pr::encode_length(length);
    reply.header = pr::format_status_field(true, name);
    reply.header.append(prefix.data(), prefix.size());
    reply.log = "250 " + name + " found. Length in bytes: " + std::to_string(length);
    reply.body.emplace(std::move(*file));
    return reply;
}

}  // namespace p2p
