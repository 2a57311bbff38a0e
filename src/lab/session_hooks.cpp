#include "p2p/lab/session_hooks.hpp"

#include "p2p/lab/trace.hpp"

namespace p2p {

void SessionIo::known_as(std::string node) {
    node_ = std::move(node);
    socket_.rename_trace_peer(node_);
}

bool SessionIo::send(const std::string& bytes) {
    std::error_code ec;
    socket_.write_all(bytes, ec);
    if (!ec) trace(socket_, Trace::Dir::sent, bytes);
    return !ec;
}

void SessionHooks::add(std::string verb, LineHandler handler, bool bare, std::string separators) {
    routes_[std::move(verb)] = Route{std::move(handler), bare, std::move(separators)};
}

const LineHandler* SessionHooks::find(std::string_view line) const {
    if (routes_.empty()) return nullptr;
    const auto end = line.find_first_of(" \t");
    const auto it = routes_.find(line.substr(0, end));
    if (it == routes_.end()) return nullptr;
    const Route& route = it->second;
    if (end == std::string_view::npos) return route.bare ? &route.handler : nullptr;
    return route.separators.find(line[end]) != std::string::npos ? &route.handler : nullptr;
}

}  // namespace p2p
