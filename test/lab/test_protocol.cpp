// The lab's wire bytes, checked byte for byte without sockets.
#define BOOST_TEST_MODULE protocol
#include <boost/test/unit_test.hpp>

#include "p2p/lab/protocol.hpp"

#include <cctype>
#include <set>
#include <string>
#include <vector>

using namespace p2p::protocol;
using namespace std::string_literals;

BOOST_AUTO_TEST_SUITE(parsing)

BOOST_AUTO_TEST_CASE(search_and_request_as_the_lab_sends_them) {
    auto r = parse_request("SRCH SkyShip.jpg");
    BOOST_REQUIRE(r.request);
    BOOST_TEST((r.request->verb == Verb::search));
    BOOST_TEST(r.request->filename == "SkyShip.jpg");
    r = parse_request("REQ SkyShip.jpg");
    BOOST_REQUIRE(r.request);
    BOOST_TEST((r.request->verb == Verb::request));
    BOOST_TEST(r.request->filename == "SkyShip.jpg");
}

BOOST_AUTO_TEST_CASE(whitespace_is_stripped_like_python_split) {
    auto r = parse_request("  SRCH \t a.txt \r\n");
    BOOST_REQUIRE(r.request);
    BOOST_TEST(r.request->filename == "a.txt");
}

BOOST_AUTO_TEST_CASE(malformed_messages_say_why) {
    BOOST_TEST((parse_request("").error == ParseError::empty));
    BOOST_TEST((parse_request(" \r\n\t").error == ParseError::empty));
    BOOST_TEST((parse_request("SRCH").error == ParseError::missing_filename));
    BOOST_TEST((parse_request("REQ   ").error == ParseError::missing_filename));
    BOOST_TEST((parse_request("GET x").error == ParseError::unknown_verb));
    BOOST_TEST((parse_request("srch x").error == ParseError::unknown_verb));  // verbs are case-sensitive
    BOOST_TEST((parse_request("SRCH a b").error == ParseError::extra_arguments));
    BOOST_TEST((parse_request("\x00\xff\x01"s).error == ParseError::unknown_verb));
    BOOST_TEST(!parse_request("SRCH a b").request);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(formatting)

BOOST_AUTO_TEST_CASE(requests_end_in_newline) {
    BOOST_TEST(format_request(Verb::search, "SkyShip.jpg") == "SRCH SkyShip.jpg\n");
    BOOST_TEST(format_request(Verb::request, "SkyShip.jpg") == "REQ SkyShip.jpg\n");
}

BOOST_AUTO_TEST_CASE(search_answers_are_the_labs) {
    BOOST_TEST(format_search_answer(true, "SkyShip.jpg") == "150 SkyShip.jpg found.");
    BOOST_TEST(format_search_answer(false, "SkyPalace.jpg") == "450 SkyPalace.jpg not found.");
}

BOOST_AUTO_TEST_CASE(status_field_is_padded_to_40) {
    std::string f = format_status_field(true, "SkyShip.jpg");
    BOOST_TEST(f.size() == 40u);
    BOOST_TEST(f == "250 SkyShip.jpg found." + std::string(40 - 22, ' '));
    std::string nf = format_status_field(false, "SkyPalace.jpg");
    BOOST_TEST(nf.size() == 40u);
    BOOST_TEST(nf.substr(0, 28) == "550 SkyPalace.jpg not found.");
    BOOST_TEST(nf.substr(28) == std::string(12, ' '));
}

BOOST_AUTO_TEST_CASE(status_field_is_cut_to_40_when_longer) {
    // Python's f'{hint:40}' would send 46 bytes here and desynchronise the stream.
    std::string name(35, 'n');
    std::string f = format_status_field(true, name);
    BOOST_TEST(f.size() == 40u);
    BOOST_TEST(f == ("250 " + name + " found.").substr(0, 40));
    BOOST_TEST(format_status_field(false, std::string(255, 'x')).size() == 40u);
    BOOST_TEST(pad_status_field("").size() == 40u);
}

BOOST_AUTO_TEST_CASE(status_field_is_cut_between_utf8_characters) {
    // "250 " + 35 ASCII bytes puts byte 40 inside the 2-byte 'ż': cut before it, then pad,
    // so a lab requester that decodes the field as UTF-8 never sees half a character.
    const std::string name = std::string(35, 'a') + "\xc5\xbc" + "b";
    const std::string f = format_status_field(true, name);
    BOOST_TEST(f.size() == 40u);
    BOOST_TEST(f == "250 " + std::string(35, 'a') + " ");
    BOOST_TEST(pad_status_field("\xe2\x82\xac").size() == 40u);  // short: untouched, padded
}

// The lab's sender writes f'{hint:40}'.encode(): padded to 40 characters, never cut.
BOOST_AUTO_TEST_CASE(lab_status_is_padded_to_40_characters_and_never_cut) {
    // Short ASCII: the same 40 bytes as ours.
    BOOST_TEST(format_lab_status(true, "SkyShip.jpg") == "250 SkyShip.jpg found." + std::string(18, ' '));
    BOOST_TEST(format_lab_status(false, "SkyPalace.jpg") == "550 SkyPalace.jpg not found." + std::string(12, ' '));
    // 550 fills the 40 with a 25-character name and overflows from 26; 250 at 29 and 30.
    const std::string n25(25, 'a'), n26(26, 'b'), n29(29, 'c'), n30(30, 'd');
    BOOST_TEST(format_lab_status(false, n25) == "550 " + n25 + " not found.");
    BOOST_TEST(format_lab_status(false, n25).size() == 40u);
    BOOST_TEST(format_lab_status(false, n26) == "550 " + n26 + " not found.");
    BOOST_TEST(format_lab_status(false, n26).size() == 41u);
    BOOST_TEST(format_lab_status(true, n29) == "250 " + n29 + " found.");
    BOOST_TEST(format_lab_status(true, n29).size() == 40u);
    BOOST_TEST(format_lab_status(true, n30) == "250 " + n30 + " found.");
    BOOST_TEST(format_lab_status(true, n30).size() == 41u);
    BOOST_TEST(format_lab_status(true, n26).size() == 40u);  // 250 still pads at 26
    const std::string n60(60, 'e');
    BOOST_TEST(format_lab_status(true, n60) == "250 " + n60 + " found.");
    BOOST_TEST(format_lab_status(false, n60) == "550 " + n60 + " not found.");
    // Ours is the lab's first 40 bytes: a lab requester reads ours exactly as it would the lab's.
    BOOST_TEST(format_lab_status(true, n60).substr(0, 40) == format_status_field(true, n60));
}

BOOST_AUTO_TEST_CASE(lab_status_counts_utf8_characters_not_bytes) {
    const std::string name = "Żółw-ćma.txt";  // 12 characters, 16 bytes
    BOOST_REQUIRE(name == "\xc5\xbb\xc3\xb3\xc5\x82w-\xc4\x87ma.txt");
    // 27 characters + 13 spaces = 44 bytes (Python: len(f'{hint:40}'.encode()) == 44).
    BOOST_TEST(format_lab_status(false, name) == "550 " + name + " not found." + std::string(13, ' '));
    BOOST_TEST(format_lab_status(false, name).size() == 44u);
    BOOST_TEST(format_lab_status(true, name) == "250 " + name + " found." + std::string(17, ' '));
    BOOST_TEST(format_lab_status(true, name).size() == 44u);
    // Over 40 characters: no padding at all; a 4-byte character counts once.
    std::string z;
    for (int i = 0; i < 30; ++i) z += "\xc5\xbc";  // 30 x 'ż'
    BOOST_TEST(format_lab_status(true, z) == "250 " + z + " found.");
    BOOST_TEST(format_lab_status(false, "\xf0\x9f\x98\x80.txt") ==
               "550 \xf0\x9f\x98\x80.txt not found." + std::string(20, ' '));
}

BOOST_AUTO_TEST_CASE(length_is_four_bytes_big_endian) {
    auto b = encode_length(85021);  // the lab's SkyShip.jpg
    BOOST_TEST(std::string(b.data(), 4) == "\x00\x01\x4c\x1d"s);
    BOOST_TEST(decode_length(b.data()) == 85021u);
    for (std::uint32_t v : {0u, 1u, 255u, 256u, 65535u, 0x01020304u, 0xffffffffu})
        BOOST_TEST(decode_length(encode_length(v).data()) == v);
    BOOST_TEST(std::string(encode_length(0xffffffffu).data(), 4) == "\xff\xff\xff\xff"s);
}

BOOST_AUTO_TEST_CASE(error_answers_are_short_and_distinct) {
    BOOST_TEST(format_error_answer(ParseError::unknown_verb) == "400 Unknown message.");
    BOOST_TEST(format_error_answer(ParseError::missing_filename) == "400 Missing filename.");
    BOOST_TEST(format_error_answer(ParseError::extra_arguments) == "400 Too many arguments.");
    BOOST_TEST(busy_answer().substr(0, 4) == "421 ");
    BOOST_TEST(too_long_answer().substr(0, 4) == "414 ");
    // What the name promises: each reason its own text, every one "NNN text." within the 40 a
    // status field holds, and none a requester could take for one of the lab's answers.
    const std::vector<std::string> answers = {
        format_error_answer(ParseError::unknown_verb), format_error_answer(ParseError::missing_filename),
        format_error_answer(ParseError::extra_arguments), format_error_answer(ParseError::bad_offset),
        busy_answer(), too_long_answer()};
    BOOST_TEST(std::set<std::string>(answers.begin(), answers.end()).size() == answers.size());
    for (const std::string& a : answers) {
        BOOST_TEST(a.size() <= status_field_size, a);
        BOOST_TEST((a.size() > 5 && std::isdigit(static_cast<unsigned char>(a[0])) && a[3] == ' ' &&
                    a.back() == '.'), a);
        BOOST_TEST((parse_status_field(pad_status_field(a)) == Status::invalid), a);
        // The busy answer is the one a requester may see in place of a search answer.
        BOOST_TEST((parse_search_answer(a, "x") == (a == busy_answer() ? SearchAnswer::busy : SearchAnswer::invalid)), a);
        BOOST_TEST((parse_ext_answer(a + "\n").kind == ExtAnswer::Kind::invalid), a);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(answers)

BOOST_AUTO_TEST_CASE(search_answer_is_recognised_only_when_exact) {
    BOOST_TEST((parse_search_answer("150 a.txt found.", "a.txt") == SearchAnswer::found));
    BOOST_TEST((parse_search_answer("450 a.txt not found.", "a.txt") == SearchAnswer::not_found));
    BOOST_TEST((parse_search_answer("", "a.txt") == SearchAnswer::incomplete));
    BOOST_TEST((parse_search_answer("150 a.t", "a.txt") == SearchAnswer::incomplete));
    BOOST_TEST((parse_search_answer("450 a.txt not", "a.txt") == SearchAnswer::incomplete));
    BOOST_TEST((parse_search_answer("150 b.txt found.", "a.txt") == SearchAnswer::invalid));
    BOOST_TEST((parse_search_answer("400 Unknown message.", "a.txt") == SearchAnswer::invalid));
    BOOST_TEST((parse_search_answer("150 a.txt found.X", "a.txt") == SearchAnswer::invalid));
    // Our node's "no thread for you" answer, known from its first four bytes.
    BOOST_TEST((parse_search_answer("42", "a.txt") == SearchAnswer::incomplete));
    BOOST_TEST((parse_search_answer("421 ", "a.txt") == SearchAnswer::busy));
    BOOST_TEST((parse_search_answer(busy_answer(), "a.txt") == SearchAnswer::busy));
    BOOST_TEST((parse_search_answer("421x", "a.txt") == SearchAnswer::invalid));
}

BOOST_AUTO_TEST_CASE(search_answer_split_anywhere_gives_the_same_result) {
    const std::string whole = "450 SkyPalace.jpg not found.";
    for (std::size_t cut = 0; cut < whole.size(); ++cut)
        BOOST_TEST((parse_search_answer(whole.substr(0, cut), "SkyPalace.jpg") == SearchAnswer::incomplete));
    BOOST_TEST((parse_search_answer(whole, "SkyPalace.jpg") == SearchAnswer::not_found));
}

BOOST_AUTO_TEST_CASE(status_field_codes) {
    BOOST_TEST((parse_status_field(format_status_field(true, "x")) == Status::found));
    BOOST_TEST((parse_status_field(format_status_field(false, "x")) == Status::not_found));
    BOOST_TEST((parse_status_field(pad_status_field("421 Busy")) == Status::invalid));
    BOOST_TEST((parse_status_field("250 x found.") == Status::invalid));  // not 40 bytes
    BOOST_TEST((parse_status_field(std::string(40, '\0')) == Status::invalid));
}

BOOST_AUTO_TEST_CASE(render_bytes_is_a_python_bytes_literal) {
    BOOST_TEST(render_bytes("SRCH SkyShip.jpg") == "b'SRCH SkyShip.jpg'");
    BOOST_TEST(render_bytes("a\nb\r\t\\'") == "b'a\\nb\\r\\t\\\\\\''");
    BOOST_TEST(render_bytes("\x00\x1b\xff"s) == "b'\\x00\\x1b\\xff'");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(extension)

BOOST_AUTO_TEST_CASE(xreq_needs_name_and_offset) {
    auto r = parse_request("XREQ big.iso 123\n");
    BOOST_REQUIRE(r.request);
    BOOST_TEST((r.request->verb == Verb::ext_request));
    BOOST_TEST(r.request->filename == "big.iso");
    BOOST_TEST(r.request->offset == 123u);
    BOOST_TEST(parse_request("XREQ big.iso 18446744073709551615").request->offset == 18446744073709551615ull);
    for (const char* bad : {"XREQ big.iso", "XREQ big.iso -1", "XREQ big.iso 1x", "XREQ big.iso 1 2",
                            "XREQ big.iso 18446744073709551616", "XREQ big.iso 999999999999999999999"})
        BOOST_TEST((parse_request(bad).error == ParseError::bad_offset), bad);
    BOOST_TEST(format_error_answer(ParseError::bad_offset) == "400 Bad offset.");
}

BOOST_AUTO_TEST_CASE(xreq_round_trip) {
    auto bytes = format_ext_request("a.bin", 5000000000ull);
    BOOST_TEST(bytes == "XREQ a.bin 5000000000\n");
    auto r = parse_request(bytes);
    BOOST_REQUIRE(r.request);
    BOOST_TEST(r.request->offset == 5000000000ull);
}

BOOST_AUTO_TEST_CASE(probe_uses_only_lab_bytes) {
    // A lab peer sees an ordinary search for a file it does not have.
    BOOST_TEST(format_request(Verb::search, extension_probe) == "SRCH :p2p-ext:1\n");
    BOOST_TEST((parse_search_answer("450 :p2p-ext:1 not found.", extension_probe) == SearchAnswer::not_found));
}

BOOST_AUTO_TEST_CASE(ext_answers) {
    const std::string sha(64, 'a');
    BOOST_TEST(format_ext_found(4294967297ull, sha) == "260 4294967297 " + sha + "\n");
    auto a = parse_ext_answer(format_ext_found(4294967297ull, sha) + "DATA");
    BOOST_TEST((a.kind == ExtAnswer::Kind::found));
    BOOST_TEST(a.size == 4294967297ull);  // beyond the lab's 4-byte length
    BOOST_TEST(a.sha256 == sha);
    BOOST_TEST(a.consumed == format_ext_found(4294967297ull, sha).size());

    BOOST_TEST((parse_ext_answer(format_ext_not_found("x")).kind == ExtAnswer::Kind::not_found));
    auto b = parse_ext_answer(format_ext_bad_offset(77));
    BOOST_TEST((b.kind == ExtAnswer::Kind::bad_offset));
    BOOST_TEST(b.size == 77u);
    BOOST_TEST((parse_ext_answer("260 12 ").kind == ExtAnswer::Kind::incomplete));
    BOOST_TEST((parse_ext_answer("260 12 abc\n").kind == ExtAnswer::Kind::invalid));          // short digest
    BOOST_TEST((parse_ext_answer("260 12 " + std::string(64, 'A') + "\n").kind == ExtAnswer::Kind::invalid));
    BOOST_TEST((parse_ext_answer("260 -1 " + sha + "\n").kind == ExtAnswer::Kind::invalid));
    BOOST_TEST((parse_ext_answer("421 Busy, try again later.\n").kind == ExtAnswer::Kind::invalid));
    BOOST_TEST((parse_ext_answer(std::string(1000, 'x')).kind == ExtAnswer::Kind::invalid));   // no newline, too long
}

BOOST_AUTO_TEST_SUITE_END()
