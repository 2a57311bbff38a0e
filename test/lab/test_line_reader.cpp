// Framing of requests: '\n'-terminated lines, the lab's unterminated messages, the length cap.
#define BOOST_TEST_MODULE line_reader
#include <boost/test/unit_test.hpp>

#include "p2p/lab/line_reader.hpp"
#include "p2p/lab/protocol.hpp"

#include <string>
#include <vector>

using p2p::LineReader;

namespace {

// Feeds `input` in pieces of `piece` bytes and collects every complete line.
std::vector<std::string> lines_in_pieces(const std::string& input, std::size_t piece) {
    LineReader r(p2p::protocol::max_request_size);
    std::vector<std::string> out;
    for (std::size_t i = 0; i < input.size(); i += piece) {
        r.feed(std::string_view(input).substr(i, piece));
        while (auto l = r.next_line()) out.push_back(*l);
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(unit)

BOOST_AUTO_TEST_CASE(one_line) {
    LineReader r(1024);
    r.feed("SRCH a.txt\n");
    auto l = r.next_line();
    BOOST_REQUIRE(l);
    BOOST_TEST(*l == "SRCH a.txt");
    BOOST_TEST(!r.next_line());
    BOOST_TEST(!r.has_partial());
}

BOOST_AUTO_TEST_CASE(crlf_is_accepted) {
    LineReader r(1024);
    r.feed("REQ a.txt\r\n");
    BOOST_TEST(*r.next_line() == "REQ a.txt");
}

BOOST_AUTO_TEST_CASE(two_in_one_read_come_out_in_order) {
    LineReader r(1024);
    r.feed("SRCH a\nREQ b\nSRCH c");
    BOOST_TEST(*r.next_line() == "SRCH a");
    BOOST_TEST(*r.next_line() == "REQ b");
    BOOST_TEST(!r.next_line());
    BOOST_TEST(r.has_partial());
    BOOST_TEST(r.take_partial() == "SRCH c");
    BOOST_TEST(!r.has_partial());
}

BOOST_AUTO_TEST_CASE(every_split_gives_the_same_lines) {
    // libtorrent's test_http_parser habit: one input, fed in pieces of every size.
    const std::string input = "SRCH SkyShip.jpg\nREQ SkyShip.jpg\r\n\nSRCH x\n";
    const std::vector<std::string> expected = {"SRCH SkyShip.jpg", "REQ SkyShip.jpg", "", "SRCH x"};
    for (std::size_t piece = 1; piece <= input.size(); ++piece)
        BOOST_TEST(lines_in_pieces(input, piece) == expected, "piece size " << piece);
}

BOOST_AUTO_TEST_CASE(unterminated_message_waits_for_the_pause) {
    // A lab peer's "SRCH f" has no terminator: it is a partial until the session's quiet window.
    LineReader r(1024);
    r.feed("SRCH Sky");
    BOOST_TEST(!r.next_line());
    r.feed("Ship.jpg");
    BOOST_TEST(!r.next_line());
    BOOST_TEST(r.take_partial() == "SRCH SkyShip.jpg");
}

BOOST_AUTO_TEST_CASE(overflow_is_detected_before_the_line_ends) {
    LineReader r(16);
    r.feed(std::string(16, 'a'));
    BOOST_TEST(!r.overflowed());
    r.feed("b");
    BOOST_TEST(r.overflowed());
    BOOST_TEST(!r.has_partial());  // never handed out as a request
    BOOST_TEST(!r.next_line());
}

BOOST_AUTO_TEST_CASE(overlong_complete_line_is_an_overflow_too) {
    LineReader r(16);
    r.feed(std::string(20, 'a') + "\nSRCH x\n");
    BOOST_TEST(!r.next_line());
    BOOST_TEST(r.overflowed());
}

BOOST_AUTO_TEST_CASE(line_of_exactly_max_length_is_fine) {
    LineReader r(16);
    r.feed(std::string(16, 'a') + "\n");
    BOOST_TEST(!r.overflowed());
    BOOST_TEST(r.next_line()->size() == 16u);
}

BOOST_AUTO_TEST_CASE(binary_bytes_pass_through_unchanged) {
    LineReader r(1024);
    std::string junk("\x00\xff\x01\x7f", 4);
    r.feed(junk + "\n");
    BOOST_TEST(*r.next_line() == junk);
}

BOOST_AUTO_TEST_SUITE_END()
