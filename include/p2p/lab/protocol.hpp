// The lab's wire protocol: parse and format, bytes in and bytes out, no sockets.
//
//   request          SRCH <filename>   |   REQ <filename>        (terminator: see line_reader.hpp)
//   answer to SRCH   "150 <f> found."  |   "450 <f> not found."   (no terminator, as the lab)
//   answer to REQ    40-byte status field, text left-aligned and space-padded:
//                    "250 <f> found." + 4-byte big-endian length + that many bytes
//                  | "550 <f> not found."
//                    (a lab sender pads to 40 characters and never cuts: see format_lab_status)
// Extension, between our nodes only (negotiated; the lab's bytes above never change):
//   probe            SRCH :p2p-ext:1   ->  "150 :p2p-ext:1 found." from our nodes,
//                                          "450 :p2p-ext:1 not found." from a lab peer
//   request          XREQ <filename> <offset>
//   answer           "260 <size> <sha256-hex>\n" + the bytes from offset to size
//                  | "261 <size>\n" + the bytes from offset to size + "<sha256-hex>\n"
//                    (no manifest ready: the sender hashes as it sends, never before)
//                  | "560 <f> not found.\n"  |  "416 <size>\n" (offset beyond the end)
// The full rule set is in docs/protocol.md.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace p2p::protocol {

/// The REQ status field is always exactly this long: padded, and truncated when longer.
constexpr std::size_t status_field_size = 40;
/// The lab's length prefix: 4 bytes, big-endian, so a lab transfer carries at most 4 GiB - 1.
constexpr std::size_t length_field_size = 4;
/// Longest request we accept (the lab reads requests with recv(1024)).
constexpr std::size_t max_request_size = 1024;

/// The capability probe's reserved name (see above); never a real file.
constexpr std::string_view extension_probe = ":p2p-ext:1";
/// Longest extension answer line we accept ("260 " + 20 digits + ' ' + 64 hex + '\n' fits).
constexpr std::size_t max_ext_answer_size = 128;

enum class Verb { search, request, ext_request };

/// One well-formed request.
struct Request {
    Verb verb;
    std::string filename;
    std::uint64_t offset = 0;  ///< XREQ only: where the requester's copy stops
};

/// Why a message is not a request.
enum class ParseError { none, empty, unknown_verb, missing_filename, extra_arguments, bad_offset };

/// Outcome of parse_request: a request, or the reason there is none.
struct ParseResult {
    std::optional<Request> request;
    ParseError error = ParseError::none;
};

/// Parses one message as the lab does (strip, split on whitespace, verb then filename).
ParseResult parse_request(std::string_view message);

/// "SRCH f\n" / "REQ f\n": our requests end in '\n', which lab peers strip away.
std::string format_request(Verb verb, std::string_view filename);

/// "150 f found." or "450 f not found.".
std::string format_search_answer(bool found, std::string_view filename);

/// The 40-byte status field for "250 f found." / "550 f not found."; padded, cut if longer.
/// This is what we send: a lab requester reads exactly 40 bytes, so more would put it out of step.
std::string format_status_field(bool found, std::string_view filename);
/// What a lab peer sends for the same answer: f'{hint:40}'.encode(), the text padded with spaces
/// to 40 characters (code points, as Python counts them) and never cut. More than 40 bytes for
/// a name over 29 characters (250) or 25 (550), and for any non-ASCII name.
std::string format_lab_status(bool found, std::string_view filename);
/// The same 40-byte field around any text (used for refusals such as a file too large).
std::string pad_status_field(std::string_view text);

/// Short answers for messages that are not requests, and for a node at its connection cap.
std::string format_error_answer(ParseError error);
std::string busy_answer();
std::string too_long_answer();

/// "XREQ f 123\n".
std::string format_ext_request(std::string_view filename, std::uint64_t offset);
/// "260 <size> <sha256-hex>\n", "560 <f> not found.\n", "416 <size>\n".
std::string format_ext_found(std::uint64_t size, std::string_view sha256_hex);
std::string format_ext_not_found(std::string_view filename);
/// "261 <size>\n": the digest follows the bytes, as "<sha256-hex>\n".
std::string format_ext_found_digest_after(std::uint64_t size);
std::string format_ext_bad_offset(std::uint64_t size);

/// An extension answer line, once complete.
struct ExtAnswer {
    enum class Kind { incomplete, found, not_found, bad_offset, invalid } kind;
    std::uint64_t size = 0;  ///< found / bad_offset: the whole file's size
    std::string sha256;      ///< found with 260: 64 lowercase hex characters; 261: empty
    std::size_t consumed = 0;  ///< bytes of the line including '\n'
    bool digest_follows = false;  ///< found with 261: the digest comes after the bytes
};
ExtAnswer parse_ext_answer(std::string_view received);

std::array<char, length_field_size> encode_length(std::uint32_t length);
std::uint32_t decode_length(const char* bytes);

/// State of an answer to "SRCH filename" while its bytes arrive.
enum class SearchAnswer { incomplete, found, not_found, busy, invalid };
/// Classifies the bytes received so far; exact match on the two possible answers.
SearchAnswer parse_search_answer(std::string_view received, std::string_view filename);

/// Meaning of a REQ status field.
enum class Status { found, not_found, invalid };
Status parse_status_field(std::string_view field);

/// The message's words, split as Python's bytes.split() does.
std::vector<std::string_view> split_words(std::string_view s);
/// A decimal uint64 without sign, spaces or overflow.
bool parse_u64(std::string_view s, std::uint64_t& out);
/// 64 lowercase hex characters (a SHA-256).
bool is_hex64(std::string_view s);

/// Python-style bytes literal (b'SRCH x\n') so logs show exactly what arrived, control bytes too.
std::string render_bytes(std::string_view bytes);

/// Text from a peer for the console: control bytes as \xNN, the rest unchanged, so a peer
/// cannot write escape sequences to the operator's terminal.
std::string escape_control(std::string_view text);

/// What a lab message or an extension answer means, for --trace ("search: is \"a\" shared?");
/// nullopt for anything else. Pure.
std::optional<std::string> describe(std::string_view bytes);

}  // namespace p2p::protocol
