// PeerId without sockets: every form a user can type, every refusal, and printing it back.
#define BOOST_TEST_MODULE peer_id
#include <boost/test/unit_test.hpp>

#include "p2p/net/peer_id.hpp"
#include "p2p/console/scan_targets.hpp"

#include <string>
#include <vector>

using p2p::PeerId;

namespace {

std::optional<PeerId> parse(const std::string& text, const std::string& own = "127.0.0.1") {
    std::string error;
    auto id = p2p::parse_peer_id(text, own, error);
    BOOST_TEST(id.has_value() == error.empty(), text << ": " << error);
    return id;
}

std::string refusal(const std::string& text, const std::string& own = "127.0.0.1") {
    std::string error;
    auto id = p2p::parse_peer_id(text, own, error);
    BOOST_TEST(!id, text << " was accepted");
    return error;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(unit)

BOOST_AUTO_TEST_CASE(port_rule) {
    BOOST_TEST(*p2p::parse_port("1") == 1);
    BOOST_TEST(*p2p::parse_port("5003") == 5003);
    BOOST_TEST(*p2p::parse_port("65535") == 65535);
    BOOST_TEST(*p2p::parse_port("05003") == 5003);
    for (const char* bad : {"", "0", "65536", "99999999999999999999", "-1", "+5", " 5", "5 ", "12x", "0x10"})
        BOOST_TEST(!p2p::parse_port(bad), bad);
}

BOOST_AUTO_TEST_CASE(a_bare_port_is_on_our_own_host) {
    BOOST_TEST((*parse("5003") == PeerId{"127.0.0.1", 5003}));
    BOOST_TEST((*parse("5003", "::1") == PeerId{"::1", 5003}));
    BOOST_TEST((*parse("5003", "10.0.0.2") == PeerId{"10.0.0.2", 5003}));
}

BOOST_AUTO_TEST_CASE(host_and_port) {
    BOOST_TEST((*parse("10.0.0.2:5000") == PeerId{"10.0.0.2", 5000}));
    BOOST_TEST((*parse("127.0.0.1:65535") == PeerId{"127.0.0.1", 65535}));
    BOOST_TEST((*parse("[::1]:5001") == PeerId{"::1", 5001}));
    BOOST_TEST((*parse("[2001:db8::7]:1") == PeerId{"2001:db8::7", 1}));
    BOOST_TEST((*parse("[fe80::1]:80") == PeerId{"fe80::1", 80}));
}

BOOST_AUTO_TEST_CASE(one_spelling_per_host) {
    BOOST_TEST(parse("[::0:1]:5")->host == "::1");
    BOOST_TEST(parse("[0:0:0:0:0:0:0:1]:5")->host == "::1");
    BOOST_TEST(parse("[2001:DB8:0::7]:5")->host == "2001:db8::7");
    // An IPv4-mapped IPv6 address is the IPv4 host itself.
    BOOST_TEST((*parse("[::ffff:127.0.0.1]:5") == PeerId{"127.0.0.1", 5}));
    BOOST_TEST((*parse("[::ffff:10.0.0.2]:5") == *parse("10.0.0.2:5")));
}

BOOST_AUTO_TEST_CASE(port_errors) {
    BOOST_TEST(refusal("0") == "a port number from 1 to 65535 is expected");
    BOOST_TEST(refusal("70000") == "a port number from 1 to 65535 is expected");
    BOOST_TEST(refusal("99999999999999999999") == "a port number from 1 to 65535 is expected");
    BOOST_TEST(contains(refusal("127.0.0.1:0"), "'0' is not a port number"));
    BOOST_TEST(contains(refusal("127.0.0.1:65536"), "'65536' is not a port number"));
    BOOST_TEST(contains(refusal("127.0.0.1:"), "'' is not a port number"));
    BOOST_TEST(contains(refusal("127.0.0.1:x"), "'x' is not a port number"));
    BOOST_TEST(contains(refusal("[::1]:-1"), "'-1' is not a port number"));
    BOOST_TEST(contains(refusal("127.0.0.1"), "the port is missing"));
    BOOST_TEST(contains(refusal("[::1]"), "the port is missing"));
}

BOOST_AUTO_TEST_CASE(only_numeric_addresses) {
    for (const char* text : {"localhost:5000", "example.com:80", "foo:5", "1.2.3:5", "256.1.1.1:5",
                             "1.2.3.4.5:5", "[::g]:5"})
        BOOST_TEST(contains(refusal(text), "not a numeric IPv4 or IPv6 address"), text);
    // Leading zeros would be octal to some tools, decimal to others: refused, not guessed.
    BOOST_TEST(contains(refusal("127.000.000.001:5"), "not a numeric"));
    for (const char* text : {"abc", "-1", "12x", "five", "localhost"})
        BOOST_TEST(contains(refusal(text), "numeric address (host names are not supported)"), text);
    BOOST_TEST(contains(refusal("[fe80::1%eth0]:5"), "scoped IPv6 addresses"));
    BOOST_TEST(contains(refusal(":5000"), "empty"));
}

BOOST_AUTO_TEST_CASE(ipv6_needs_brackets_and_brackets_need_ipv6) {
    for (const char* text : {"::1:5000", "2001:db8::7:80", "[::1:5000", "::1"})
        BOOST_TEST(contains(refusal(text), "IPv6 address goes in brackets"), text);
    BOOST_TEST(contains(refusal("[127.0.0.1]:5"), "brackets are for IPv6 addresses only"));
    BOOST_TEST(contains(refusal("[localhost]:5"), "brackets are for IPv6 addresses only"));
}

BOOST_AUTO_TEST_CASE(what_must_never_be_a_peer) {
    BOOST_TEST(refusal("0.0.0.0:5") == "0.0.0.0 is an unspecified address (0.0.0.0/8), never a peer");
    BOOST_TEST(contains(refusal("0.1.2.3:5"), "unspecified"));
    BOOST_TEST(refusal("[::]:5") == ":: is the unspecified address, never a peer");
    BOOST_TEST(contains(refusal("[::ffff:0.0.0.0]:5"), "unspecified"));
    BOOST_TEST(refusal("224.0.0.1:5") == "224.0.0.1 is a multicast address, never a peer");
    BOOST_TEST(contains(refusal("239.255.255.250:1900"), "multicast"));
    BOOST_TEST(contains(refusal("[ff02::1]:5"), "multicast"));
    BOOST_TEST(contains(refusal("[::ffff:224.0.0.1]:5"), "multicast"));
    BOOST_TEST(refusal("255.255.255.255:5") == "255.255.255.255 is the broadcast address, never a peer");
    // The edges stay peers.
    BOOST_TEST(parse("223.255.255.255:5").has_value());
    BOOST_TEST(parse("240.0.0.1:5").has_value());
    BOOST_TEST(parse("1.0.0.0:5").has_value());
}

BOOST_AUTO_TEST_CASE(parse_host_alone) {
    std::string error;
    BOOST_TEST(*p2p::parse_host("127.0.0.1", error) == "127.0.0.1");
    BOOST_TEST(*p2p::parse_host("::0:1", error) == "::1");
    BOOST_TEST(!p2p::parse_host("[::1]", error));  // a bare host has no brackets (--host)
    BOOST_TEST(!p2p::parse_host("0.0.0.0", error));
    BOOST_TEST(contains(error, "unspecified"));
    BOOST_TEST(!p2p::parse_host("", error));
}

BOOST_AUTO_TEST_CASE(printing) {
    BOOST_TEST((PeerId{"127.0.0.1", 5003}.to_string() == "127.0.0.1:5003"));
    BOOST_TEST((PeerId{"::1", 5003}.to_string() == "[::1]:5003"));
    BOOST_TEST(p2p::bracketed("::1") == "[::1]");
    BOOST_TEST(p2p::bracketed("10.0.0.1") == "10.0.0.1");
    // As the console shows it: the lab's bare port on our own host.
    BOOST_TEST((PeerId{"127.0.0.1", 5003}.display("127.0.0.1") == "5003"));
    BOOST_TEST((PeerId{"::1", 5003}.display("::1") == "5003"));
    BOOST_TEST((PeerId{"::1", 5003}.display("127.0.0.1") == "[::1]:5003"));
    BOOST_TEST((PeerId{"10.0.0.2", 5003}.display("127.0.0.1") == "10.0.0.2:5003"));
}

BOOST_AUTO_TEST_CASE(round_trips) {
    for (const char* text : {"127.0.0.1:5003", "10.0.0.2:1", "1.2.3.4:65535", "[::1]:5001",
                             "[2001:db8::7]:80", "[fe80::1:2]:9"}) {
        auto id = parse(text, "192.0.2.1");
        BOOST_REQUIRE(id);
        BOOST_TEST(id->to_string() == text);
        BOOST_TEST((*parse(id->to_string(), "192.0.2.1") == *id));
        // What the console shows parses back to the same peer, on any own host.
        for (const char* own : {"127.0.0.1", "::1", id->host.c_str()})
            BOOST_TEST((*parse(id->display(own), own) == *id), text << " on " << own);
    }
}

BOOST_AUTO_TEST_CASE(order_and_equality) {
    BOOST_TEST((PeerId{"127.0.0.1", 5} == PeerId{"127.0.0.1", 5}));
    BOOST_TEST((PeerId{"127.0.0.1", 5} != PeerId{"127.0.0.1", 6}));
    BOOST_TEST((PeerId{"127.0.0.1", 5} != PeerId{"::1", 5}));
    BOOST_TEST((PeerId{"127.0.0.1", 5} < PeerId{"127.0.0.1", 6}));
}

BOOST_AUTO_TEST_SUITE_END()
