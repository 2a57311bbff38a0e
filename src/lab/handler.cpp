#include "p2p/lab/handler.hpp"


#include <limits>

namespace p2p {

Reply handle_request(const protocol::Request& request, const FileIndex& index, const FileDigests* digests) {
    namespace pr = protocol;
    const std::string& name = request.filename;
    auto file = index.open(name);
    Reply reply;
    if (request.verb == pr::Verb::search) {
        // The capability probe: "found" tells the asker we speak the extension.
        reply.header = pr::format_search_answer(file.has_value() || name == pr::extension_probe, name);
        reply.log = reply.header;
        return reply;
    }
    if (request.verb == pr::Verb::ext_request) {
        if (!file) {
            reply.header = pr::format_ext_not_found(name);
            reply.log = "560 " + name + " not found.";
            return reply;
        }
        if (request.offset > file->size()) {
            reply.header = pr::format_ext_bad_offset(file->size());
            reply.log = "416 " + name + ": offset " + std::to_string(request.offset) + " beyond " +
                        std::to_string(file->size()) + " bytes.";
            return reply;
        }
        const auto digest = digests ? digests->sha256_hex(*file) : std::nullopt;
        const std::string length = "Length in bytes: " + std::to_string(file->size()) +
                                   (request.offset ? ", from offset " + std::to_string(request.offset) : "");
        if (digest) {
            reply.header = pr::format_ext_found(file->size(), *digest);
            reply.log = "260 " + name + " found. " + length + ", SHA-256 " + digest->substr(0, 16) + "...";
        } else {
            reply.header = pr::format_ext_found_digest_after(file->size());
            reply.log = "261 " + name + " found. " + length + ", SHA-256 after the data";
            reply.digest_after = true;
        }
        reply.body_offset = request.offset;
        reply.body.emplace(std::move(*file));
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
