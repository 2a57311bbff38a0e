// Bytes in, complete requests out.
//
// A request ends at '\n' (a '\r' before it is dropped). Lab peers send a request with no
// terminator, one per send(), and then wait for the answer, so bytes without '\n' become one
// request once the peer pauses: the session calls take_partial() after a short quiet window.
// The maximum length is enforced while the line is still incomplete (a peer cannot make us
// buffer without bound by never sending '\n').
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace p2p {

class LineReader {
public:
    explicit LineReader(std::size_t max_length) : max_length_(max_length) {}

    /// Appends received bytes.
    void feed(std::string_view bytes);
    /// The next '\n'-terminated message without its terminator, if one is complete.
    std::optional<std::string> next_line();
    /// True when bytes without a terminator are waiting.
    bool has_partial() const { return !overflowed() && !buffer_.empty(); }
    /// Hands over the unterminated bytes as one message (a lab peer's request after a pause).
    std::string take_partial();
    /// True once a message grew past max_length: the peer must be told and dropped.
    bool overflowed() const;

private:
    std::size_t max_length_;
    std::string buffer_;
};

}  // namespace p2p
