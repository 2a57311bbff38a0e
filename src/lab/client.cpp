#include "p2p/lab/client.hpp"

#include "p2p/lab/protocol.hpp"
#include "p2p/lab/trace.hpp"

#include <boost/filesystem/operations.hpp>

#include <algorithm>

namespace p2p {
namespace pr = protocol;

SearchOutcome search(Socket& socket, const std::string& name, const ReadLimits& limits) {
    std::error_code ec;
    const std::string request = pr::format_request(pr::Verb::search, name);
    socket.write_all(request, ec);
    if (ec) return SearchOutcome::disconnected;
    trace(socket, Trace::Dir::sent, request);
    std::string answer;
    for (;;) {
        const auto kind = pr::parse_search_answer(answer, name);
        if (kind != pr::SearchAnswer::incomplete) trace(socket, Trace::Dir::received, answer);
        switch (kind) {
        case pr::SearchAnswer::found: return SearchOutcome::found;
        case pr::SearchAnswer::not_found: return SearchOutcome::not_found;
        case pr::SearchAnswer::busy: return SearchOutcome::busy;
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

SearchOutcome probe_extension(Socket& socket, const ReadLimits& limits) {
    return search(socket, std::string(pr::extension_probe), limits);
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

DownloadOutcome from_receive(const ReceiveResult& r, std::uint64_t expected) {
    using K = DownloadOutcome::Kind;
    using R = ReceiveResult::Kind;
    DownloadOutcome out{K::saved, r.received, expected, r.detail};
    switch (r.kind) {
    case R::saved: out.kind = K::saved; break;
    case R::exists: out.kind = K::exists; break;
    case R::disconnected: out.kind = K::disconnected; break;
    case R::timeout: out.kind = K::timeout; break;
    case R::interrupted: out.kind = K::interrupted; break;
    case R::write_failed: out.kind = K::write_failed; break;
    case R::corrupt: out.kind = K::corrupt; break;
    }
    return out;
}

// The file's bytes are no message: the trace says how many arrived.
DownloadOutcome received(const Socket& socket, DownloadOutcome out) {
    trace_note(socket, Trace::Dir::received, "file data: " + std::to_string(out.bytes) + " bytes");
    return out;
}

// The lab's REQ: 40-byte status field (longer from a lab sender, see below), 4-byte length,
// the bytes.
DownloadOutcome download_lab(Socket& socket, const std::string& name, const FileIndex& index,
                             bool overwrite, const ReadLimits& limits, const ProgressFn& progress) {
    using K = DownloadOutcome::Kind;
    std::error_code ec;
    const std::string request = pr::format_request(pr::Verb::request, name);
    socket.write_all(request, ec);
    if (ec) return {K::disconnected};
    trace(socket, Trace::Dir::sent, request);

    std::string field(pr::status_field_size, '\0');
    if (auto st = read_exact(socket, field.data(), field.size(), limits); st != ReadStatus::ok)
        return {from_read(st)};
    const pr::Status status = pr::parse_status_field(field);
    trace(socket, Trace::Dir::received, field);
    if (status == pr::Status::invalid) return {K::invalid_answer};
    // A lab sender pads to 40 characters and never cuts: for a long or non-ASCII name its text
    // runs past the field. We know that text exactly, so read the rest of it and check it.
    const std::string lab_text = pr::format_lab_status(status == pr::Status::found, name);
    const bool lab_answer = lab_text.compare(0, field.size(), field) == 0;
    if (lab_answer && lab_text.size() > field.size()) {
        std::string rest(lab_text.size() - field.size(), '\0');
        if (auto st = read_exact(socket, rest.data(), rest.size(), limits); st != ReadStatus::ok)
            return {from_read(st)};
        if (rest != lab_text.substr(field.size())) return {K::invalid_answer};
    }
    if (status == pr::Status::not_found) {
        if (lab_answer) return {K::not_found};
        // Another reason, e.g. "550 f too large.": keep the text, as the lab prints it.
        std::string reason = field.substr(4, field.find_last_not_of(' ') - 3);
        if (!reason.empty() && reason.back() == '.') reason.pop_back();
        return {K::refused, 0, 0, reason};
    }
    char prefix[pr::length_field_size];
    if (auto st = read_exact(socket, prefix, sizeof prefix, limits); st != ReadStatus::ok)
        return {from_read(st)};
    const std::uint64_t length = pr::decode_length(prefix);
    trace_note(socket, Trace::Dir::received, "length field: " + std::to_string(length) + " bytes follow");
    ReceiveTarget target{index, name, overwrite, 0, length, {}, false};
    return received(socket, from_receive(receive_file(socket, target, limits, progress), length));
}

// Reads one extension answer line, byte by byte: the file's bytes follow it directly.
ReadStatus read_ext_answer(Socket& socket, pr::ExtAnswer& answer, const ReadLimits& limits) {
    std::string line;
    // The not-found line echoes the name (up to 255 bytes).
    if (auto st = read_line(socket, line, pr::max_ext_answer_size + 256, limits); st != ReadStatus::ok) return st;
    answer = pr::parse_ext_answer(line);
    if (answer.kind == pr::ExtAnswer::Kind::incomplete) answer.kind = pr::ExtAnswer::Kind::invalid;
    trace(socket, Trace::Dir::received, line);
    return ReadStatus::ok;
}

// XREQ: resume from name.part, 64-bit size, whole-file SHA-256 verified before the rename.
DownloadOutcome download_extended(Socket& socket, const std::string& name, const FileIndex& index,
                                  bool overwrite, const ReadLimits& limits, const ProgressFn& progress) {
    using K = DownloadOutcome::Kind;
    boost::system::error_code fec;
    const auto part = index.partial_path_for(name);
    std::uint64_t offset = boost::filesystem::is_regular_file(part, fec)
                               ? boost::filesystem::file_size(part, fec) : 0;
    if (fec) offset = 0;
    for (int attempt = 0; attempt < 2; ++attempt) {
        std::error_code ec;
        const std::string request = pr::format_ext_request(name, offset);
        socket.write_all(request, ec);
        if (ec) return {K::disconnected};
        trace(socket, Trace::Dir::sent, request);
        pr::ExtAnswer answer{pr::ExtAnswer::Kind::invalid};
        // A sender answers at once (digest known, or sent after the bytes); only a resume from a
        // sender without a manifest hashes the kept prefix first (about 0.7 s per GiB here).
        ReadLimits header_limits = limits;
        header_limits.stall_timeout = std::max(limits.stall_timeout, std::chrono::milliseconds(600000));
        if (auto st = read_ext_answer(socket, answer, header_limits); st != ReadStatus::ok)
            return {from_read(st)};
        switch (answer.kind) {
        case pr::ExtAnswer::Kind::not_found: return {K::not_found};
        case pr::ExtAnswer::Kind::bad_offset:
            // Our partial copy is longer than the peer's file: it is not that file. Start over.
            boost::filesystem::remove(part, fec);
            offset = 0;
            continue;
        case pr::ExtAnswer::Kind::found: {
            if (answer.size < offset) return {K::invalid_answer};  // would wrap the length
            ReceiveTarget target{index, name, overwrite, offset, answer.size, answer.sha256, true,
                                 answer.digest_follows};
            DownloadOutcome out = received(socket, from_receive(receive_file(socket, target, limits, progress),
                                                                answer.size - offset));
            out.resumed_from = offset;
            out.verified = out.kind == K::saved;
            out.partial_kept = stream_lost(out.kind);
            return out;
        }
        default: return {K::invalid_answer};
        }
    }
    return {K::invalid_answer};
}

}  // namespace

bool stream_lost(DownloadOutcome::Kind kind) {
    using K = DownloadOutcome::Kind;
    return kind == K::disconnected || kind == K::invalid_answer || kind == K::timeout ||
           kind == K::interrupted;
}

DownloadOutcome download(Socket& socket, const std::string& name, const FileIndex& index,
                         bool overwrite, bool extended, const ReadLimits& limits,
                         const ProgressFn& progress) {
    return extended ? download_extended(socket, name, index, overwrite, limits, progress)
                    : download_lab(socket, name, index, overwrite, limits, progress);
}

}  // namespace p2p
