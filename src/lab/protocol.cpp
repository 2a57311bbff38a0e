#include "p2p/lab/protocol.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace p2p::protocol {
namespace {

constexpr std::string_view search_verb = "SRCH";
constexpr std::string_view request_verb = "REQ";
constexpr std::string_view ext_request_verb = "XREQ";

// Python's bytes.split() with no argument splits on these.
bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool is_prefix_of(std::string_view prefix, std::string_view whole) {
    return prefix.size() <= whole.size() && whole.compare(0, prefix.size(), prefix) == 0;
}

// "250 f found." / "550 f not found.", unpadded.
std::string status_text(bool found, std::string_view filename) {
    return (found ? "250 " : "550 ") + std::string(filename) + (found ? " found." : " not found.");
}

// The second, third or fourth byte of a UTF-8 character (10xxxxxx).
bool is_utf8_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// len() of the str Python decodes from these UTF-8 bytes: one per byte that is not a
// continuation byte (10xxxxxx). The lab decodes requests as UTF-8, so its names are valid UTF-8.
std::size_t python_length(std::string_view utf8) {
    std::size_t n = 0;
    for (char c : utf8)
        if (!is_utf8_continuation(c)) ++n;
    return n;
}

}  // namespace

std::vector<std::string_view> split_words(std::string_view s) {
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && is_space(s[i])) ++i;
        std::size_t start = i;
        while (i < s.size() && !is_space(s[i])) ++i;
        if (i > start) words.push_back(s.substr(start, i - start));
    }
    return words;
}

// A decimal uint64 without sign, spaces or overflow.
bool parse_u64(std::string_view s, std::uint64_t& out) {
    if (s.empty() || s.size() > 20) return false;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        std::uint64_t d = static_cast<std::uint64_t>(c - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    out = v;
    return true;
}

bool is_hex64(std::string_view s) {
    if (s.size() != 64) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

ParseResult parse_request(std::string_view message) {
    auto words = split_words(message);
    if (words.empty()) return {std::nullopt, ParseError::empty};
    Verb verb;
    if (words[0] == search_verb) verb = Verb::search;
    else if (words[0] == request_verb) verb = Verb::request;
    else if (words[0] == ext_request_verb) verb = Verb::ext_request;
    else return {std::nullopt, ParseError::unknown_verb};
    if (words.size() < 2) return {std::nullopt, ParseError::missing_filename};
    if (verb == Verb::ext_request) {
        std::uint64_t offset = 0;
        if (words.size() != 3 || !parse_u64(words[2], offset))
            return {std::nullopt, ParseError::bad_offset};
        return {Request{verb, std::string(words[1]), offset}, ParseError::none};
    }
    // The lab ignores extra words; a name with spaces would then be served as its first word.
    if (words.size() > 2) return {std::nullopt, ParseError::extra_arguments};
    return {Request{verb, std::string(words[1]), 0}, ParseError::none};
}

std::string format_request(Verb verb, std::string_view filename) {
    std::string out(verb == Verb::search ? search_verb : request_verb);  // XREQ: format_ext_request
    out += ' ';
    out += filename;
    out += '\n';
    return out;
}

std::string format_search_answer(bool found, std::string_view filename) {
    return (found ? "150 " : "450 ") + std::string(filename) + (found ? " found." : " not found.");
}

std::string pad_status_field(std::string_view text) {
    std::size_t cut = std::min(text.size(), status_field_size);
    // Never inside a UTF-8 character: a lab requester decodes the field and would fail on half.
    if (cut < text.size())
        while (cut > 0 && is_utf8_continuation(text[cut])) --cut;
    std::string field(text.substr(0, cut));
    field.resize(status_field_size, ' ');
    return field;
}

std::string format_status_field(bool found, std::string_view filename) {
    return pad_status_field(status_text(found, filename));
}

std::string format_lab_status(bool found, std::string_view filename) {
    std::string text = status_text(found, filename);
    const std::size_t length = python_length(text);
    if (length < status_field_size) text.append(status_field_size - length, ' ');
    return text;
}

std::string format_error_answer(ParseError error) {
    switch (error) {
    case ParseError::missing_filename: return "400 Missing filename.";
    case ParseError::extra_arguments: return "400 Too many arguments.";
    case ParseError::bad_offset: return "400 Bad offset.";
    case ParseError::empty:
    case ParseError::unknown_verb:
    case ParseError::none: break;
    }
    return "400 Unknown message.";
}

std::string busy_answer() { return "421 Busy, try again later."; }
std::string too_long_answer() { return "414 Message too long."; }

std::string format_ext_request(std::string_view filename, std::uint64_t offset) {
    return std::string(ext_request_verb) + ' ' + std::string(filename) + ' ' + std::to_string(offset) + '\n';
}

std::string format_ext_found(std::uint64_t size, std::string_view sha256_hex) {
    return "260 " + std::to_string(size) + ' ' + std::string(sha256_hex) + '\n';
}

std::string format_ext_found_digest_after(std::uint64_t size) { return "261 " + std::to_string(size) + '\n'; }

std::string format_ext_not_found(std::string_view filename) {
    return "560 " + std::string(filename) + " not found.\n";
}

std::string format_ext_bad_offset(std::uint64_t size) { return "416 " + std::to_string(size) + '\n'; }

ExtAnswer parse_ext_answer(std::string_view received) {
    using K = ExtAnswer::Kind;
    auto nl = received.find('\n');
    // The not-found line echoes the name (up to 255 bytes), so allow for it before giving up.
    const std::size_t limit = max_ext_answer_size + 255;
    if (nl == std::string_view::npos)
        return {received.size() > limit ? K::invalid : K::incomplete};
    if (nl > limit) return {K::invalid};
    auto words = split_words(received.substr(0, nl));
    ExtAnswer a{K::invalid, 0, {}, nl + 1};
    if (words.size() == 3 && words[0] == "260" && parse_u64(words[1], a.size) && is_hex64(words[2])) {
        a.kind = K::found;
        a.sha256 = std::string(words[2]);
    } else if (words.size() == 2 && words[0] == "261" && parse_u64(words[1], a.size)) {
        a.kind = K::found;
        a.digest_follows = true;
    } else if (words.size() == 2 && words[0] == "416" && parse_u64(words[1], a.size)) {
        a.kind = K::bad_offset;
    } else if (!words.empty() && words[0] == "560") {
        a.kind = K::not_found;
    }
    return a;
}

std::array<char, length_field_size> encode_length(std::uint32_t length) {
    return {static_cast<char>(length >> 24), static_cast<char>(length >> 16),
            static_cast<char>(length >> 8), static_cast<char>(length)};
}

std::uint32_t decode_length(const char* bytes) {
    auto b = [bytes](int i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])); };
    return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

SearchAnswer parse_search_answer(std::string_view received, std::string_view filename) {
    const std::string found = format_search_answer(true, filename);
    const std::string not_found = format_search_answer(false, filename);
    if (received == found) return SearchAnswer::found;
    if (received == not_found) return SearchAnswer::not_found;
    // Our node's answer when it has no thread for us (busy_answer()); it closes after it.
    if (received.substr(0, 4) == "421 ") return SearchAnswer::busy;
    if (is_prefix_of(received, found) || is_prefix_of(received, not_found) || is_prefix_of(received, "421 "))
        return SearchAnswer::incomplete;
    return SearchAnswer::invalid;
}

Status parse_status_field(std::string_view field) {
    if (field.size() != status_field_size) return Status::invalid;
    if (field.compare(0, 4, "250 ") == 0) return Status::found;
    if (field.compare(0, 4, "550 ") == 0) return Status::not_found;
    return Status::invalid;
}

std::string render_bytes(std::string_view bytes) {
    static const char hex[] = "0123456789abcdef";
    std::string out = "b'";
    for (char ch : bytes) {
        auto c = static_cast<unsigned char>(ch);
        switch (c) {
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\\': out += "\\\\"; break;
        case '\'': out += "\\'"; break;
        default:
            if (c < 0x20 || c >= 0x7f) {
                out += "\\x";
                out += hex[c >> 4];
                out += hex[c & 15];
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    out += '\'';
    return out;
}

std::string escape_control(std::string_view text) {
    static const char hex[] = "0123456789abcdef";
    std::string out;
    for (char ch : text) {
        auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7f) {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += ch;
        }
    }
    return out;
}

namespace {

std::string quoted(std::string_view name) { return "\"" + escape_control(name) + "\""; }

std::string describe_request(const Request& r) {
    switch (r.verb) {
    case Verb::search:
        if (r.filename == extension_probe) return "extension probe: are you one of our nodes?";
        return "search: is " + quoted(r.filename) + " shared?";
    case Verb::request: return "request (lab): send " + quoted(r.filename);
    case Verb::ext_request:
        return "request (extension): send " + quoted(r.filename) + " from byte " + std::to_string(r.offset);
    }
    return "request";
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

}  // namespace

std::optional<std::string> describe(std::string_view bytes) {
    // An extension answer is complete with its '\n' only; the rest is read without it.
    const auto ext = parse_ext_answer(bytes);
    std::string_view message = bytes;
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.remove_suffix(1);
    if (starts_with(message, "150 ")) return "answer: found";
    if (starts_with(message, "450 ")) return "answer: not found";
    if (starts_with(message, "250 ")) return "answer: found, the file follows";
    if (starts_with(message, "550 ")) return "answer: not found";
    if (starts_with(message, "421 ")) return "answer: busy, try again later";
    if (starts_with(message, "4") || starts_with(message, "5")) {
        if (ext.kind == ExtAnswer::Kind::not_found) return "answer: not found";
        if (ext.kind == ExtAnswer::Kind::bad_offset)
            return "answer: offset beyond the end, the file has " + std::to_string(ext.size) + " bytes";
        return "answer: error";
    }
    if (starts_with(message, "260 ")) {
        if (ext.kind == ExtAnswer::Kind::found)
            return "answer: the file follows, " + std::to_string(ext.size) + " bytes in all, SHA-256 " +
                   ext.sha256.substr(0, 16) + "...";
    }
    const auto parsed = parse_request(message);
    if (parsed.request) return describe_request(*parsed.request);
    return std::nullopt;
}

}  // namespace p2p::protocol
