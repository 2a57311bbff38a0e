#include "p2p/client.hpp"

#include "p2p/protocol.hpp"

namespace p2p {
namespace pr = protocol;

SearchOutcome search(Socket& socket, const std::string& name, const ReadLimits& limits) {
    std::error_code ec;
    socket.write_all(pr::format_request(pr::Verb::search, name), ec);
    if (ec) return SearchOutcome::disconnected;
    std::string answer;
    for (;;) {
        switch (pr::parse_search_answer(answer, name)) {
        case pr::SearchAnswer::found: return SearchOutcome::found;
        case pr::SearchAnswer::not_found: return SearchOutcome::not_found;
        case pr::SearchAnswer::invalid: return SearchOutcome::invalid_answer;
        case pr::SearchAnswer::incomplete: break;
        }
        // Never read past the answer: ask only for the bytes it can still be missing.
        std::size_t longest = pr::format_search_answer(false, name).size();
        switch (read_more(socket, answer, longest - answer.size(), limits)) {
        case ReadStatus::ok: break;
        case ReadStatus::timeout: return SearchOutcome::timeout;
        case ReadStatus::interrupted: return SearchOutcome::interrupted;
        case ReadStatus::closed:
        case ReadStatus::error: return SearchOutcome::disconnected;
        }
    }
}

namespace {

DownloadOutcome::Kind from_read(ReadStatus st) {
    using K = DownloadOutcome::Kind;
    switch (st) {
    case ReadStatus::timeout: return K::timeout;
    case ReadStatus::interrupted: return K::interrupted;
    default: return K::disconnected;
    }
}

}  // namespace

DownloadOutcome download(Socket& socket, const std::string& name, const FileIndex& index,
                         bool overwrite, const ReadLimits& limits, const ProgressFn& progress) {
    using K = DownloadOutcome::Kind;
    std::error_code ec;
    socket.write_all(pr::format_request(pr::Verb::request, name), ec);
    if (ec) return {K::disconnected};

    std::string field(pr::status_field_size, '\0');
    if (auto st = read_exact(socket, field.data(), field.size(), limits); st != ReadStatus::ok)
        return {from_read(st)};
    switch (pr::parse_status_field(field)) {
    case pr::Status::invalid: return {K::invalid_answer};
    case pr::Status::not_found: {
        if (field == pr::format_status_field(false, name)) return {K::not_found};
        auto end = field.find_last_not_of(' ');
        return {K::refused, 0, 0, field.substr(4, end - 3)};
    }
    case pr::Status::found: break;
    }
    char prefix[pr::length_field_size];
    if (auto st = read_exact(socket, prefix, sizeof prefix, limits); st != ReadStatus::ok)
        return {from_read(st)};
    const std::uint64_t length = pr::decode_length(prefix);

    auto r = receive_file(socket, length, index, name, overwrite, limits, progress);
    DownloadOutcome out{K::saved, r.received, length, r.detail};
    switch (r.kind) {
    case ReceiveResult::Kind::saved: out.kind = K::saved; break;
    case ReceiveResult::Kind::exists: out.kind = K::exists; break;
    case ReceiveResult::Kind::disconnected: out.kind = K::disconnected; break;
    case ReceiveResult::Kind::timeout: out.kind = K::timeout; break;
    case ReceiveResult::Kind::interrupted: out.kind = K::interrupted; break;
    case ReceiveResult::Kind::write_failed: out.kind = K::write_failed; break;
    }
    return out;
}

}  // namespace p2p
