// libFuzzer target: the bytes a peer can send us, through the same code a session uses.
// Cuts the input into requests (in two piece sizes taken from the input), parses each one as a
// request and as an overlay line (HELLO, the handshake's, included), and also runs the
// requesting side's answer parsers over the raw bytes, the swarm's messages and answers, and
// the manifest parser (a manifest comes from a peer as it is).
#include "p2p/swarm/chunk_bitmap.hpp"
#include "p2p/lab/line_reader.hpp"
#include "p2p/swarm/manifest.hpp"
#include "p2p/overlay/overlay_protocol.hpp"
#include "p2p/lab/protocol.hpp"
#include "p2p/swarm/swarm_protocol.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace pr = p2p::protocol;
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const std::size_t piece = size ? 1 + data[0] % 64 : 1;
    p2p::LineReader reader(pr::max_request_size);
    for (std::size_t i = 0; i < bytes.size() && !reader.overflowed(); i += piece) {
        reader.feed(bytes.substr(i, piece));
        while (auto line = reader.next_line()) {
            auto r = pr::parse_request(*line);
            if (r.request) (void)pr::render_bytes(r.request->filename);
            else (void)pr::format_error_answer(r.error);
            const auto m = p2p::overlay::parse(*line);
            if (m.kind == p2p::overlay::Message::Kind::query) (void)p2p::overlay::next_hop(m.query);
            if (p2p::swarm::is_swarm_message(*line)) (void)p2p::swarm::parse_request(*line);
        }
    }
    if (reader.has_partial()) (void)pr::parse_request(reader.take_partial());
    (void)pr::parse_search_answer(bytes, "SkyShip.jpg");
    (void)pr::parse_ext_answer(bytes);
    (void)p2p::swarm::parse_answer(bytes);
    if (auto m = p2p::parse_manifest(bytes)) {
        // A manifest that parses must describe itself consistently.
        for (std::size_t i = 0; i < m->chunk_count(); ++i) (void)m->chunk_length(i);
        if (p2p::serialize(*m) != bytes) __builtin_trap();
    }
    if (auto nl = bytes.find('\n'); nl != std::string_view::npos) (void)p2p::manifest_body_length(bytes.substr(0, nl));
    (void)p2p::parse_chunk_bitmap(bytes, std::string(64, 'a'), size % 100);
    if (bytes.size() >= pr::status_field_size) (void)pr::parse_status_field(bytes.substr(0, pr::status_field_size));
    if (bytes.size() >= pr::length_field_size) (void)pr::decode_length(bytes.data());
    return 0;
}
