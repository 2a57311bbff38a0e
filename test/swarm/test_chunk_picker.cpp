// The swarm's chunk picker without sockets or threads: random first then in order, every chunk
// handed out once before the endgame, the endgame's duplicates and the first copy winning,
// failed and dropped sources' chunks going back; and the resume bitmap's text.
#define BOOST_TEST_MODULE chunk_picker
#include <boost/test/unit_test.hpp>

#include "p2p/swarm/chunk_bitmap.hpp"
#include "p2p/swarm/chunk_picker.hpp"

#include <set>

using p2p::ChunkPicker;

BOOST_AUTO_TEST_CASE(every_chunk_is_handed_out_once_before_the_endgame) {
    ChunkPicker p(50, {}, 7);
    std::set<std::size_t> seen;
    for (int k = 0; k < 50; ++k) {
        auto i = p.pick(k % 3);
        BOOST_REQUIRE(i);
        BOOST_TEST(seen.insert(*i).second);
        BOOST_TEST(!p.endgame() == (k < 49));
    }
    BOOST_TEST(p.endgame());
}

BOOST_AUTO_TEST_CASE(after_the_random_start_chunks_come_in_order) {
    ChunkPicker p(100, {}, 1, 4);
    std::set<std::size_t> randoms;
    for (int k = 0; k < 4; ++k) randoms.insert(*p.pick(0));
    std::size_t last = 0;
    bool first = true;
    for (int k = 0; k < 20; ++k) {
        auto i = *p.pick(0);
        BOOST_TEST(!randoms.count(i));
        if (!first) BOOST_TEST(i > last);
        last = i;
        first = false;
    }
}

BOOST_AUTO_TEST_CASE(no_random_start_is_plain_order_and_skips_what_is_had) {
    std::vector<bool> have(6, false);
    have[0] = have[2] = true;
    ChunkPicker p(6, have, 1, 0);
    BOOST_TEST(p.have_count() == 2u);
    BOOST_TEST(*p.pick(0) == 1u);
    BOOST_TEST(*p.pick(0) == 3u);
    BOOST_TEST(*p.pick(1) == 4u);
    BOOST_TEST(*p.pick(1) == 5u);
}

BOOST_AUTO_TEST_CASE(a_failed_chunk_goes_back_to_the_queue_first) {
    ChunkPicker p(5, {}, 1, 0);
    for (int k = 0; k < 3; ++k) p.pick(0);  // 0, 1, 2
    p.failed(1, 0);
    BOOST_TEST(!p.endgame());
    BOOST_TEST(*p.pick(2) == 1u);
    BOOST_TEST(*p.pick(2) == 3u);
}

BOOST_AUTO_TEST_CASE(a_failed_chunk_goes_to_another_source_first) {
    ChunkPicker p(4, {}, 1, 0);
    BOOST_TEST(*p.pick(0) == 0u);
    p.failed(0, 0);
    BOOST_TEST(*p.pick(0) == 1u);  // not chunk 0 again
    BOOST_TEST(*p.pick(1) == 0u);  // another source takes it
    BOOST_TEST(*p.pick(0) == 2u);
    BOOST_TEST(*p.pick(0) == 3u);
    ChunkPicker q(1, {}, 1, 0);
    q.pick(0);
    q.failed(0, 0);
    BOOST_TEST(*q.pick(0) == 0u);  // the only source left gets it again
}

BOOST_AUTO_TEST_CASE(a_dropped_source_loses_all_its_chunks) {
    ChunkPicker p(4, {}, 1, 0);
    p.pick(0);
    p.pick(0);
    p.pick(1);
    p.pick(1);
    BOOST_TEST(p.endgame());
    p.drop(0);
    BOOST_TEST(!p.endgame());
    BOOST_TEST(*p.pick(1) == 0u);
    BOOST_TEST(*p.pick(1) == 1u);
}

BOOST_AUTO_TEST_CASE(endgame_asks_a_second_source_and_the_first_copy_wins) {
    ChunkPicker p(2, {}, 1, 0);
    BOOST_TEST(*p.pick(0) == 0u);
    BOOST_TEST(*p.pick(1) == 1u);
    BOOST_TEST(p.endgame());
    // Source 1 has nothing left of its own: it helps with chunk 0, never twice.
    BOOST_TEST(*p.pick(1) == 0u);
    BOOST_TEST(!p.pick(1));
    BOOST_TEST(p.complete(0, 1));
    BOOST_TEST(!p.wanted(0));
    BOOST_TEST(!p.complete(0, 0));  // the loser's copy is not needed
    BOOST_TEST(!p.done());
    BOOST_TEST(p.complete(1, 1));
    BOOST_TEST(p.done());
    BOOST_TEST(!p.pick(0));
}

BOOST_AUTO_TEST_CASE(endgame_prefers_the_chunk_with_fewest_sources) {
    ChunkPicker p(3, {}, 1, 0);
    p.pick(0);  // 0
    p.pick(1);  // 1
    p.pick(2);  // 2
    BOOST_TEST(*p.pick(3) == 0u);  // all had one; now 0 has two
    BOOST_TEST(*p.pick(4) == 1u);
    BOOST_TEST(*p.pick(5) == 2u);
}

BOOST_AUTO_TEST_CASE(a_failure_in_the_endgame_keeps_the_other_request) {
    ChunkPicker p(1, {}, 1, 0);
    p.pick(0);
    p.pick(1);
    p.failed(0, 0);
    BOOST_TEST(p.endgame());  // source 1 still fetches it
    BOOST_TEST(*p.pick(0) == 0u);
    BOOST_TEST(p.complete(0, 0));
    BOOST_TEST(p.done());
}

BOOST_AUTO_TEST_CASE(an_empty_file_is_done_at_once) {
    ChunkPicker p(0, {}, 1);
    BOOST_TEST(p.done());
    BOOST_TEST(!p.endgame());
    BOOST_TEST(!p.pick(0));
}

BOOST_AUTO_TEST_CASE(many_sources_finish_a_file_whatever_the_order) {
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
        ChunkPicker p(37, {}, seed);
        std::mt19937_64 r(seed);
        int steps = 0;
        std::vector<std::vector<std::size_t>> asked(4);
        while (!p.done() && steps++ < 10000) {
            const std::size_t s = r() % 4;
            if (auto i = p.pick(s)) asked[s].push_back(*i);
            if (!asked[s].empty() && r() % 2) {
                const std::size_t i = asked[s].front();
                asked[s].erase(asked[s].begin());
                if (r() % 7 == 0) p.failed(i, s);
                else p.complete(i, s);
            }
        }
        BOOST_TEST(p.done());
    }
}

BOOST_AUTO_TEST_CASE(the_bitmap_round_trips_and_refuses_another_file) {
    const std::string root(64, 'a');
    std::vector<bool> have(11, false);
    have[0] = have[7] = have[10] = true;
    const std::string text = p2p::format_chunk_bitmap(root, have);
    BOOST_TEST(text == "p2p-node chunks 1\n" + root + " 11\n8120\n");
    BOOST_TEST(*p2p::parse_chunk_bitmap(text, root, 11) == have);
    BOOST_TEST(!p2p::parse_chunk_bitmap(text, std::string(64, 'b'), 11));
    BOOST_TEST(!p2p::parse_chunk_bitmap(text, root, 12));
    BOOST_TEST(!p2p::parse_chunk_bitmap(text.substr(0, text.size() - 1), root, 11));
    BOOST_TEST(!p2p::parse_chunk_bitmap("p2p-node chunks 1\n" + root + " 11\n81zz\n", root, 11));
    BOOST_TEST(*p2p::parse_chunk_bitmap(p2p::format_chunk_bitmap(root, {}), root, 0) == std::vector<bool>{});
}
