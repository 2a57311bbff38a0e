// Downloads without TCP: a socketpair carries the bytes, a Session (or hand-written bytes)
// plays the sending peer. Atomic save, resume, integrity, refusals, staying in step.
#define BOOST_TEST_MODULE transfer
#include <boost/test/unit_test.hpp>

#include "p2p/lab/client.hpp"
#include "p2p/lab/protocol.hpp"
#include "p2p/lab/session.hpp"
#include "p2p/util/sha256.hpp"
#include "p2p/lab/transfer.hpp"
#include "support.hpp"

#include <atomic>
#include <fstream>
#include <fcntl.h>
#include <sstream>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace p2p;
using namespace std::chrono_literals;
namespace fs = boost::filesystem;

namespace {

std::pair<Socket, Socket> socket_pair() {
    int fds[2];
    BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    return {Socket(fds[0]), Socket(fds[1])};
}

std::string sha256_of(const fs::path& p) {
    int fd = ::open(p.c_str(), O_RDONLY);
    Sha256 h;
    h.update_from_fd(fd, 0, fs::file_size(p));
    ::close(fd);
    return h.hex_digest();
}

void write_all(Socket& s, const std::string& bytes) {
    std::error_code ec;
    s.write_all(bytes, ec);
    BOOST_REQUIRE(!ec);
}

// A sending node's session on one end of a socketpair, the requesting side on the other.
struct SessionPair {
    test::TempDir server_dir, client_dir;
    std::ostringstream log;
    Output output{log, false, false};
    std::atomic<bool> exit{false};
    std::unique_ptr<FileIndex> server_index, client_index;
    std::shared_ptr<Socket> server_end;
    Socket client;
    std::thread thread;
    ReadLimits limits{5000ms, nullptr};

    void start() {
        server_index = std::make_unique<FileIndex>(server_dir.path());
        client_index = std::make_unique<FileIndex>(client_dir.path());
        auto [a, b] = socket_pair();
        server_end = std::make_shared<Socket>(std::move(a));
        client = std::move(b);
        thread = std::thread([this] {
            Session(server_end, 4242, *server_index, output, SessionLimits{}, exit).run();
        });
    }
    ~SessionPair() {
        exit = true;
        if (server_end) server_end->shutdown();
        if (thread.joinable()) thread.join();
    }
    DownloadOutcome get(const std::string& name, bool extended, bool overwrite = false) {
        return download(client, name, *client_index, overwrite, extended, limits, {});
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(unit)

BOOST_AUTO_TEST_CASE(final_name_appears_only_when_complete) {
    test::TempDir dir;
    FileIndex index(dir.path());
    auto [tx, rx] = socket_pair();
    const std::string data(300000, 'z');
    std::thread sender([&tx = tx, &data] {
        for (std::size_t i = 0; i < data.size(); i += 100000) {
            std::error_code ec;
            tx.write_all(data.data() + i, 100000, ec);
            std::this_thread::sleep_for(20ms);
        }
    });
    bool final_seen_early = false;
    ReceiveTarget t{index, "f.bin", false, 0, data.size(), {}, false};
    auto r = receive_file(rx, t, {5000ms, nullptr}, [&](std::uint64_t done, std::uint64_t total) {
        if (done < total && fs::exists(dir / "f.bin")) final_seen_early = true;
    });
    sender.join();
    BOOST_TEST((r.kind == ReceiveResult::Kind::saved));
    BOOST_TEST(!final_seen_early);
    BOOST_TEST(test::read_file(dir / "f.bin") == data);
    BOOST_TEST(!fs::exists(dir / "f.bin.part"));
}

BOOST_AUTO_TEST_CASE(sender_gone_mid_transfer_leaves_nothing) {
    test::TempDir dir;
    FileIndex index(dir.path());
    auto [tx, rx] = socket_pair();
    write_all(tx, std::string(1000, 'a'));
    tx.close();
    ReceiveTarget t{index, "f.bin", false, 0, 5000, {}, false};
    auto r = receive_file(rx, t, {5000ms, nullptr}, {});
    BOOST_TEST((r.kind == ReceiveResult::Kind::disconnected));
    BOOST_TEST(r.received == 1000u);
    BOOST_TEST(!fs::exists(dir / "f.bin"));
    BOOST_TEST(!fs::exists(dir / "f.bin.part"));
}

BOOST_AUTO_TEST_CASE(resumable_transfer_keeps_the_part) {
    test::TempDir dir;
    FileIndex index(dir.path());
    auto [tx, rx] = socket_pair();
    write_all(tx, std::string(1000, 'a'));
    tx.close();
    ReceiveTarget t{index, "f.bin", false, 0, 5000, std::string(64, '0'), true};
    auto r = receive_file(rx, t, {5000ms, nullptr}, {});
    BOOST_TEST((r.kind == ReceiveResult::Kind::disconnected));
    BOOST_TEST(!fs::exists(dir / "f.bin"));
    BOOST_TEST(fs::file_size(dir / "f.bin.part") == 1000u);
}

BOOST_AUTO_TEST_CASE(stalled_sender_times_out) {
    test::TempDir dir;
    FileIndex index(dir.path());
    auto [tx, rx] = socket_pair();
    write_all(tx, std::string(10, 'a'));
    ReceiveTarget t{index, "f.bin", false, 0, 100, {}, false};
    auto r = receive_file(rx, t, {300ms, nullptr}, {});
    BOOST_TEST((r.kind == ReceiveResult::Kind::timeout));
    BOOST_TEST(!fs::exists(dir / "f.bin"));
}

BOOST_AUTO_TEST_CASE(cancel_interrupts_a_silent_wait) {
    test::TempDir dir;
    FileIndex index(dir.path());
    auto [tx, rx] = socket_pair();
    std::atomic<bool> cancel{false};
    std::thread canceller([&] { std::this_thread::sleep_for(100ms); cancel = true; });
    ReceiveTarget t{index, "f.bin", false, 0, 100, {}, false};
    auto start = std::chrono::steady_clock::now();
    auto r = receive_file(rx, t, {60000ms, &cancel}, {});
    canceller.join();
    BOOST_TEST((r.kind == ReceiveResult::Kind::interrupted));
    BOOST_TEST((std::chrono::steady_clock::now() - start < 10s));
    BOOST_TEST(!fs::exists(dir / "f.bin"));
}

BOOST_AUTO_TEST_CASE(wrong_digest_is_discarded) {
    test::TempDir dir;
    FileIndex index(dir.path());
    auto [tx, rx] = socket_pair();
    write_all(tx, "hello");
    ReceiveTarget t{index, "f.bin", false, 0, 5, std::string(64, 'a'), true};
    auto r = receive_file(rx, t, {5000ms, nullptr}, {});
    BOOST_TEST((r.kind == ReceiveResult::Kind::corrupt));
    BOOST_TEST(!fs::exists(dir / "f.bin"));
    BOOST_TEST(!fs::exists(dir / "f.bin.part"));
}

BOOST_AUTO_TEST_CASE(existing_file_is_kept_unless_overwrite) {
    test::TempDir dir;
    FileIndex index(dir.path());
    test::write_file(dir / "f.bin", 10, 7);
    const std::string before = test::read_file(dir / "f.bin");
    {
        auto [tx, rx] = socket_pair();
        write_all(tx, "new!");
        ReceiveTarget t{index, "f.bin", false, 0, 4, {}, false};
        BOOST_TEST((receive_file(rx, t, {5000ms, nullptr}, {}).kind == ReceiveResult::Kind::exists));
        BOOST_TEST(test::read_file(dir / "f.bin") == before);
    }
    {
        auto [tx, rx] = socket_pair();
        write_all(tx, "new!");
        ReceiveTarget t{index, "f.bin", true, 0, 4, {}, false};
        BOOST_TEST((receive_file(rx, t, {5000ms, nullptr}, {}).kind == ReceiveResult::Kind::saved));
        BOOST_TEST(test::read_file(dir / "f.bin") == "new!");
    }
    BOOST_TEST(!fs::exists(dir / "f.bin.part"));
}

BOOST_AUTO_TEST_CASE(disk_failure_still_reads_to_the_end) {
    // f.bin.part is a directory: the write fails, yet the stream must stay in step.
    test::TempDir dir;
    FileIndex index(dir.path());
    fs::create_directory(dir / "f.bin.part");
    auto [tx, rx] = socket_pair();
    write_all(tx, std::string(5000, 'x') + "NEXT");
    ReceiveTarget t{index, "f.bin", false, 0, 5000, {}, false};
    auto r = receive_file(rx, t, {5000ms, nullptr}, {});
    BOOST_TEST((r.kind == ReceiveResult::Kind::write_failed));
    BOOST_TEST(!r.detail.empty());
    BOOST_TEST(!fs::exists(dir / "f.bin"));
    char next[4];
    BOOST_TEST((read_exact(rx, next, 4, {1000ms, nullptr}) == ReadStatus::ok));
    BOOST_TEST(std::string(next, 4) == "NEXT");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(with_session)

BOOST_FIXTURE_TEST_CASE(lab_request_then_extended_request_on_one_stream, SessionPair) {
    test::write_file(server_dir / "a.bin", 200000, 3);
    test::write_file(server_dir / "b.bin", 70000, 4);
    start();
    auto r = get("a.bin", false);
    BOOST_TEST((r.kind == DownloadOutcome::Kind::saved));
    BOOST_TEST(!r.verified);
    BOOST_TEST(test::same_bytes(server_dir / "a.bin", client_dir / "a.bin"));
    r = get("b.bin", true);
    BOOST_TEST((r.kind == DownloadOutcome::Kind::saved));
    BOOST_TEST(r.verified);
    BOOST_TEST(test::same_bytes(server_dir / "b.bin", client_dir / "b.bin"));
    BOOST_TEST((get("missing", true).kind == DownloadOutcome::Kind::not_found));
    BOOST_TEST((get("missing", false).kind == DownloadOutcome::Kind::not_found));
    BOOST_TEST((probe_extension(client, limits) == SearchOutcome::found));
}

BOOST_FIXTURE_TEST_CASE(resume_from_part_and_verify_whole_file, SessionPair) {
    test::write_file(server_dir / "big.bin", 3 * 1024 * 1024 + 17, 9);
    const std::string whole = test::read_file(server_dir / "big.bin");
    {
        std::ofstream part((client_dir / "big.bin.part").string(), std::ios::binary);
        part.write(whole.data(), 1000000);
    }
    start();
    auto r = get("big.bin", true);
    BOOST_TEST((r.kind == DownloadOutcome::Kind::saved));
    BOOST_TEST(r.resumed_from == 1000000u);
    BOOST_TEST(r.bytes == whole.size() - 1000000);
    BOOST_TEST(r.verified);
    BOOST_TEST(test::read_file(client_dir / "big.bin") == whole);
    BOOST_TEST(!fs::exists(client_dir / "big.bin.part"));
}

BOOST_FIXTURE_TEST_CASE(resume_from_a_wrong_part_fails_the_digest, SessionPair) {
    test::write_file(server_dir / "f.bin", 100000, 1);
    test::write_file(client_dir / "f.bin.part", 50000, 2);  // not a prefix of the real file
    start();
    auto r = get("f.bin", true);
    BOOST_TEST((r.kind == DownloadOutcome::Kind::corrupt));
    BOOST_TEST(!fs::exists(client_dir / "f.bin"));
    BOOST_TEST(!fs::exists(client_dir / "f.bin.part"));
    r = get("f.bin", true);  // a clean retry then works
    BOOST_TEST((r.kind == DownloadOutcome::Kind::saved));
    BOOST_TEST(test::same_bytes(server_dir / "f.bin", client_dir / "f.bin"));
}

BOOST_FIXTURE_TEST_CASE(part_longer_than_the_file_starts_over, SessionPair) {
    test::write_file(server_dir / "f.bin", 1000, 1);
    test::write_file(client_dir / "f.bin.part", 5000, 2);
    start();
    auto r = get("f.bin", true);
    BOOST_TEST((r.kind == DownloadOutcome::Kind::saved));
    BOOST_TEST(r.resumed_from == 0u);
    BOOST_TEST(test::same_bytes(server_dir / "f.bin", client_dir / "f.bin"));
}

BOOST_FIXTURE_TEST_CASE(digest_after_the_data_is_the_whole_files_sha256, SessionPair) {
    test::write_file(server_dir / "f.bin", 12345, 5);
    start();
    write_all(client, protocol::format_ext_request("f.bin", 12000));
    std::string line;
    char c = 0;
    while (c != '\n') {
        BOOST_REQUIRE((read_exact(client, &c, 1, limits) == ReadStatus::ok));
        line += c;
    }
    // No indexer here, so no manifest: the digest of the whole file follows the data.
    BOOST_TEST(line == "261 12345\n");
    std::string tail(345 + 65, '\0');
    BOOST_REQUIRE((read_exact(client, tail.data(), tail.size(), limits) == ReadStatus::ok));
    BOOST_TEST(tail == test::read_file(server_dir / "f.bin").substr(12000) + sha256_of(server_dir / "f.bin") + "\n");
}

BOOST_FIXTURE_TEST_CASE(lab_request_for_4_gib_file_is_refused_not_wrapped, SessionPair) {
    {
        // Sparse: 4 GiB + 1 byte of length costs no disk.
        int fd = ::open((server_dir / "huge.iso").c_str(), O_CREAT | O_WRONLY, 0644);
        BOOST_REQUIRE(::ftruncate(fd, (off_t(1) << 32) + 1) == 0);
        ::close(fd);
    }
    start();
    auto r = get("huge.iso", false);
    BOOST_TEST((r.kind == DownloadOutcome::Kind::refused));
    BOOST_TEST(r.detail == "huge.iso too large");
    BOOST_TEST(!fs::exists(client_dir / "huge.iso"));
    test::write_file(server_dir / "small", 10);
    BOOST_TEST((get("small", false).kind == DownloadOutcome::Kind::saved));  // still in step
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(planted)

BOOST_AUTO_TEST_CASE(link_planted_as_part_is_not_followed) {
    test::TempDir root;
    fs::create_directory(root / "shared");
    test::write_file(root / "outside.txt", 10, 1);
    const std::string before = test::read_file(root / "outside.txt");
    fs::create_symlink(root / "outside.txt", root / "shared" / "f.bin.part");
    FileIndex index(root / "shared");
    auto [tx, rx] = socket_pair();
    write_all(tx, "evil");
    ReceiveTarget t{index, "f.bin", false, 0, 4, {}, false};
    auto r = receive_file(rx, t, {5000ms, nullptr}, {});
    BOOST_TEST((r.kind == ReceiveResult::Kind::write_failed));
    BOOST_TEST(test::read_file(root / "outside.txt") == before);
    BOOST_TEST(!fs::exists(root / "shared" / "f.bin"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(review_fixes)

BOOST_AUTO_TEST_CASE(size_below_our_offset_is_an_invalid_answer) {
    // A lying peer answers a resume from 5000 with a 10-byte file: the length must not wrap.
    test::TempDir dir;
    FileIndex index(dir.path());
    test::write_file(dir / "f.bin.part", 5000, 1);
    auto [tx, rx] = socket_pair();
    std::thread peer([&tx = tx] {
        std::string req;
        char c = 0;
        while (c != '\n' && read_exact(tx, &c, 1, {5000ms, nullptr}) == ReadStatus::ok) req += c;
        if (req == "XREQ f.bin 5000\n") write_all(tx, protocol::format_ext_found(10, std::string(64, 'a')));
    });
    auto r = download(rx, "f.bin", index, false, true, {5000ms, nullptr}, {});
    peer.join();
    BOOST_TEST((r.kind == DownloadOutcome::Kind::invalid_answer));
    BOOST_TEST(!fs::exists(dir / "f.bin"));
}

BOOST_AUTO_TEST_CASE(disk_failure_stays_the_cause_when_the_stream_then_ends) {
    test::TempDir dir;
    FileIndex index(dir.path());
    fs::create_directory(dir / "f.bin.part");
    auto [tx, rx] = socket_pair();
    write_all(tx, std::string(100, 'x'));
    tx.close();
    ReceiveTarget t{index, "f.bin", false, 0, 5000, std::string(64, 'a'), true};
    auto r = receive_file(rx, t, {5000ms, nullptr}, {});
    BOOST_TEST((r.kind == ReceiveResult::Kind::write_failed));
}

// Resuming with a huge .part re-hashes the kept prefix first: Ctrl-C or quit must end that as
// promptly as any other wait, and keep the prefix for the next attempt.
BOOST_AUTO_TEST_CASE(rehashing_a_kept_prefix_stops_on_cancel_and_keeps_it) {
    test::TempDir dir;
    FileIndex index(dir.path());
    const std::uint64_t kept = 64ull << 30;
    test::write_sparse_file(index.partial_path_for("f.bin"), kept);
    auto [tx, rx] = socket_pair();
    write_all(tx, std::string(10, 'z'));  // the rest of the file is there to read
    std::atomic<bool> cancel{false};
    test::SetLater interrupt(cancel, 200ms);
    ReceiveTarget t{index, "f.bin", false, kept, kept + 10, std::string(64, 'a'), true};
    const auto t0 = std::chrono::steady_clock::now();
    auto r = receive_file(rx, t, {5000ms, &cancel}, {});
    BOOST_TEST(test::seconds_since(t0) < 15.0);
    BOOST_TEST((r.kind == ReceiveResult::Kind::interrupted));
    BOOST_TEST(fs::file_size(index.partial_path_for("f.bin")) == kept);
    BOOST_TEST(!fs::exists(dir / "f.bin"));
}

// Bandwidth limits: each side alone paces the transfer, and a cancel ends a wait for tokens.
BOOST_AUTO_TEST_CASE(rate_limits_pace_both_ends) {
    constexpr std::uint64_t size = 1 << 20, rate = 2 << 20;  // 1 MiB at 2 MiB/s: 0.4 s after the burst
    for (const bool limit_upload : {true, false}) {
        BOOST_TEST_CONTEXT((limit_upload ? "upload" : "download") << " limited") {
            test::TempDir from, to;
            test::write_file(from / "f.bin", size, 7);
            FileIndex source(from.path()), index(to.path());
            auto file = source.open("f.bin");
            BOOST_REQUIRE(file.has_value());
            RateLimit limit(rate);
            auto [tx, rx] = socket_pair();
            std::error_code ec;
            std::thread sender([&, &tx = tx] { send_file(tx, *file, 0, ec, limit_upload ? &limit : nullptr); });
            ReceiveTarget t{index, "f.bin", false, 0, size, {}, false};
            const auto t0 = std::chrono::steady_clock::now();
            auto r = receive_file(rx, t, {5000ms, nullptr, limit_upload ? nullptr : &limit}, {});
            const double took = test::seconds_since(t0);
            sender.join();
            BOOST_TEST(!ec);
            BOOST_TEST((r.kind == ReceiveResult::Kind::saved));
            BOOST_TEST(test::same_bytes(from / "f.bin", to / "f.bin"));
            BOOST_TEST(took >= 0.3, took << " s");
            BOOST_TEST(took < 30.0, took << " s");
        }
    }
}

BOOST_AUTO_TEST_CASE(cancel_ends_a_limited_send) {
    test::TempDir dir;
    test::write_file(dir / "f.bin", 1 << 20);
    FileIndex index(dir.path());
    auto file = index.open("f.bin");
    BOOST_REQUIRE(file.has_value());
    RateLimit limit(1);  // one grant at once, then one byte per second
    auto [tx, rx] = socket_pair();
    std::atomic<bool> cancel{false};
    test::SetLater interrupt(cancel, 200ms);
    std::error_code ec;
    const auto t0 = std::chrono::steady_clock::now();
    send_file(tx, *file, 0, ec, &limit, &cancel);
    BOOST_TEST(test::seconds_since(t0) < 5.0);
    BOOST_TEST((ec == std::errc::operation_canceled), ec.message());
}

BOOST_AUTO_TEST_SUITE_END()
