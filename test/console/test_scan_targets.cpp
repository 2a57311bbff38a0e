// `scan HOSTS[:PORTS]` without sockets: the forms, the order, the cap and the refusals.
#define BOOST_TEST_MODULE scan_targets
#include <boost/test/unit_test.hpp>

#include "p2p/console/scan_targets.hpp"

#include <string>
#include <vector>

using p2p::PeerId;

namespace {

const std::vector<std::uint16_t> lab{5000, 5001, 5002, 5003, 5004, 5005, 5006, 5007, 5008, 5009};

std::vector<std::string> targets(const std::string& text, const std::string& own = "127.0.0.1") {
    std::string error;
    auto ids = p2p::parse_scan_targets(text, own, lab, error);
    BOOST_TEST_REQUIRE(ids.has_value(), text << ": " << error);
    std::vector<std::string> out;
    for (const auto& id : *ids) out.push_back(id.to_string());
    return out;
}

std::string refusal(const std::string& text) {
    std::string error;
    BOOST_TEST(!p2p::parse_scan_targets(text, "127.0.0.1", lab, error), text << " was accepted");
    return error;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

using V = std::vector<std::string>;

}  // namespace

BOOST_AUTO_TEST_SUITE(unit)

BOOST_AUTO_TEST_CASE(one_host_with_ports) {
    BOOST_TEST(targets("127.0.0.1:5000-5003") ==
               (V{"127.0.0.1:5000", "127.0.0.1:5001", "127.0.0.1:5002", "127.0.0.1:5003"}));
    BOOST_TEST(targets("10.0.0.7:80") == (V{"10.0.0.7:80"}));
    BOOST_TEST(targets("[::1]:5000-5002") == (V{"[::1]:5000", "[::1]:5001", "[::1]:5002"}));
}

BOOST_AUTO_TEST_CASE(ports_default_to_the_scan_range) {
    BOOST_TEST(targets("10.0.0.7").size() == 10u);
    BOOST_TEST(targets("10.0.0.7").front() == "10.0.0.7:5000");
    BOOST_TEST(targets("[::1]").back() == "[::1]:5009");
}

BOOST_AUTO_TEST_CASE(ports_alone_are_on_our_own_host) {
    BOOST_TEST(targets("6000-6001") == (V{"127.0.0.1:6000", "127.0.0.1:6001"}));
    BOOST_TEST(targets("6000", "::1") == (V{"[::1]:6000"}));
}

BOOST_AUTO_TEST_CASE(host_ranges_vary_slowest) {
    BOOST_TEST(targets("10.0.0.1-10.0.0.3:7-8") ==
               (V{"10.0.0.1:7", "10.0.0.1:8", "10.0.0.2:7", "10.0.0.2:8", "10.0.0.3:7", "10.0.0.3:8"}));
    // Across an octet.
    BOOST_TEST(targets("10.0.0.255-10.0.1.0:1") == (V{"10.0.0.255:1", "10.0.1.0:1"}));
    BOOST_TEST(targets("10.0.0.1-10.0.0.5:5000-5009").size() == 50u);
}

BOOST_AUTO_TEST_CASE(the_cap) {
    BOOST_TEST(targets("10.0.0.0-10.0.15.255:1").size() == p2p::max_scan_targets);  // exactly 4096
    BOOST_TEST(targets("127.0.0.1:1-4096").size() == 4096u);
    BOOST_TEST(refusal("127.0.0.1:1-4097") == "4097 addresses; a scan probes at most 4096");
    BOOST_TEST(refusal("10.0.0.0-10.0.16.0:1") == "4097 addresses; a scan probes at most 4096");
    BOOST_TEST(contains(refusal("1.0.0.0-223.255.255.255:1-65535"), "a scan probes at most 4096"));
}

BOOST_AUTO_TEST_CASE(refusals) {
    BOOST_TEST(contains(refusal("10.0.0.5-10.0.0.1:1"), "FIRST <= LAST"));
    BOOST_TEST(contains(refusal("10.0.0.1-foo:1"), "numeric"));
    BOOST_TEST(contains(refusal("10.0.0.1-[::1]:1"), "brackets"));
    BOOST_TEST(contains(refusal("223.255.255.255-224.0.0.1:1"), "multicast"));
    BOOST_TEST(contains(refusal("127.0.0.1:5009-5000"), "not a port P, a range LO-HI or a list"));
    BOOST_TEST(contains(refusal("127.0.0.1:0"), "not a port P, a range LO-HI or a list"));
    BOOST_TEST(contains(refusal("127.0.0.1:"), "not a port P, a range LO-HI or a list"));
    BOOST_TEST(contains(refusal("127.0.0.1:x"), "not a port P, a range LO-HI or a list"));
    BOOST_TEST(contains(refusal("::1:5000"), "brackets"));
    BOOST_TEST(contains(refusal("[::1"), "brackets"));
    BOOST_TEST(contains(refusal("[::1]5000"), "brackets"));
    BOOST_TEST(contains(refusal("[10.0.0.1]:5"), "brackets are for IPv6 addresses only"));
    BOOST_TEST(contains(refusal("localhost:5000"), "host names are not supported"));
    BOOST_TEST(contains(refusal("0.0.0.0:5000"), "never a peer"));
    BOOST_TEST(contains(refusal("255.255.255.255"), "broadcast"));
    BOOST_TEST(contains(refusal("224.0.0.1-224.0.0.9:1"), "multicast"));
    BOOST_TEST(contains(refusal("[ff02::1]:1"), "multicast"));
    BOOST_TEST(contains(refusal("70000"), "not a port P, a range LO-HI or a list"));
    BOOST_TEST(refusal("") == "nothing to scan");
}

BOOST_AUTO_TEST_CASE(port_list_rule) {
    using P = std::vector<std::uint16_t>;
    BOOST_TEST(*p2p::parse_port_list("5000-5003", 10) == (P{5000, 5001, 5002, 5003}));
    BOOST_TEST(*p2p::parse_port_list("7", 10) == P{7});
    // In the order given, as a scan prints them.
    BOOST_TEST(*p2p::parse_port_list("9,3-4,1", 10) == (P{9, 3, 4, 1}));
    BOOST_TEST(p2p::parse_port_list("1-10", 10).has_value());
    BOOST_TEST(!p2p::parse_port_list("1-11", 10));
    BOOST_TEST(!p2p::parse_port_list("1-5,6-11", 10));
    for (const char* bad : {"", "-", "5-", "-5", "9-1", "0-5", "1-65536", "1-2-3", "a-b", ",", "5,", ",5", "5,,6", "5;6"})
        BOOST_TEST(!p2p::parse_port_list(bad, 1024), bad);
}

BOOST_AUTO_TEST_CASE(a_list_of_ports) {
    BOOST_TEST(targets("127.0.0.1:5003,5000-5001") == (V{"127.0.0.1:5003", "127.0.0.1:5000", "127.0.0.1:5001"}));
    BOOST_TEST(targets("6001,6000") == (V{"127.0.0.1:6001", "127.0.0.1:6000"}));
}

BOOST_AUTO_TEST_SUITE_END()
