// The swarm's wire messages: a manifest request and chunk requests, answered in order on the
// connection they came on, so a requester may pipeline several. Our nodes send them only after
// the handshake, so a lab peer never receives one; a node answers them from anyone it serves
// (they give nothing REQ does not). Pure: parse and format, no I/O.
//
//   XMAN <filename>                  -> "270 " + the manifest (manifest.hpp: a line, then the
//                                       chunk digests, 32 raw bytes each)
//                                     | "570 <f> not ready.\n"  (not hashed yet: use XREQ)
//                                     | "560 <f> not found.\n"
//   XGET <filename> <root> <index>   -> "280 <index> <length>\n" + that chunk's bytes
//                                     | "409 <f> changed.\n"  (the file is no longer the
//                                       version of that root, or its new manifest is not ready)
//                                     | "416 <chunk count>\n" (no such chunk)
//                                     | "560 <f> not found.\n"
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace p2p::swarm {

/// The two requests' verbs.
constexpr std::string_view manifest_verb = "XMAN";
constexpr std::string_view chunk_verb = "XGET";

/// Longest answer line we read: "270 " + the manifest's line, or a name echoed back.
constexpr std::size_t max_answer_line = 512;

struct Request {
    enum class Kind { manifest, chunk } kind;
    std::string filename;
    std::string root;         ///< chunk: the manifest's root, 64 lowercase hex
    std::uint64_t index = 0;  ///< chunk: which one
};

/// True for a line that starts with one of the verbs above (then it is answered here, not by
/// the lab's handler, even when malformed).
bool is_swarm_message(std::string_view line);
/// A well-formed request, or nothing.
std::optional<Request> parse_request(std::string_view line);

std::string format_manifest_request(std::string_view filename);
std::string format_chunk_request(std::string_view filename, std::string_view root, std::uint64_t index);

/// Answers (the manifest's own bytes follow "270 ").
std::string format_manifest_header();
std::string format_not_ready(std::string_view filename);
std::string format_not_found(std::string_view filename);
std::string format_chunk_header(std::uint64_t index, std::uint64_t length);
std::string format_changed(std::string_view filename);
std::string format_bad_index(std::uint64_t count);
/// A malformed request: the answer, then the connection is closed.
std::string format_bad_request();

/// One answer line as it arrives (byte by byte: data follows it directly).
struct Answer {
    enum class Kind { incomplete, manifest, not_ready, not_found, chunk, changed, bad_index, invalid } kind;
    std::uint64_t index = 0, length = 0;  ///< chunk: its index and length; bad_index: the count
    std::string manifest_line;            ///< manifest: the manifest's first line, without "\n"
};
Answer parse_answer(std::string_view received);

}  // namespace p2p::swarm
