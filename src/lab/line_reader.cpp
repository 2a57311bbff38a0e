#include "p2p/lab/line_reader.hpp"

namespace p2p {

void LineReader::feed(std::string_view bytes) { buffer_.append(bytes.data(), bytes.size()); }

std::optional<std::string> LineReader::next_line() {
    auto nl = buffer_.find('\n');
    if (nl == std::string::npos || nl > max_length_) return std::nullopt;
    std::string line = buffer_.substr(0, nl);
    buffer_.erase(0, nl + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

std::string LineReader::take_partial() {
    std::string partial;
    partial.swap(buffer_);
    return partial;
}

bool LineReader::overflowed() const {
    auto nl = buffer_.find('\n');
    return nl == std::string::npos ? buffer_.size() > max_length_ : nl > max_length_;
}

}  // namespace p2p
