#include "p2p/protocol.hpp"

#include <vector>

namespace p2p::protocol {
namespace {

constexpr std::string_view search_verb = "SRCH";
constexpr std::string_view request_verb = "REQ";

// Python's bytes.split() with no argument splits on these.
bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

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

bool is_prefix_of(std::string_view prefix, std::string_view whole) {
    return prefix.size() <= whole.size() && whole.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

ParseResult parse_request(std::string_view message) {
    auto words = split_words(message);
    if (words.empty()) return {std::nullopt, ParseError::empty};
    Verb verb;
    if (words[0] == search_verb) verb = Verb::search;
    else if (words[0] == request_verb) verb = Verb::request;
    else return {std::nullopt, ParseError::unknown_verb};
    if (words.size() < 2) return {std::nullopt, ParseError::missing_filename};
    // The lab ignores extra words; a name with spaces would then be served as its first word.
    if (words.size() > 2) return {std::nullopt, ParseError::extra_arguments};
    return {Request{verb, std::string(words[1])}, ParseError::none};
}

std::string format_request(Verb verb, std::string_view filename) {
    std::string out(verb == Verb::search ? search_verb : request_verb);
    out += ' ';
    out += filename;
    out += '\n';
    return out;
}

std::string format_search_answer(bool found, std::string_view filename) {
    return (found ? "150 " : "450 ") + std::string(filename) + (found ? " found." : " not found.");
}

std::string pad_status_field(std::string_view text) {
    std::string field(text.substr(0, status_field_size));
    field.resize(status_field_size, ' ');
    return field;
}

std::string format_status_field(bool found, std::string_view filename) {
    return pad_status_field((found ? "250 " : "550 ") + std::string(filename) +
                            (found ? " found." : " not found."));
}

std::string format_error_answer(ParseError error) {
    switch (error) {
    case ParseError::missing_filename: return "400 Missing filename.";
    case ParseError::extra_arguments: return "400 Too many arguments.";
    case ParseError::empty:
    case ParseError::unknown_verb:
    case ParseError::none: break;
    }
    return "400 Unknown message.";
}

std::string busy_answer() { return "421 Busy, try again later."; }
std::string too_long_answer() { return "414 Message too long."; }

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
    if (is_prefix_of(received, found) || is_prefix_of(received, not_found))
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

}  // namespace p2p::protocol
