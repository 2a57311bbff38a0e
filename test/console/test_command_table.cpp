// The console's command table without a node: help lines in rank order with the lab's first,
// aliases, unknown names, and the names Tab completes.
#define BOOST_TEST_MODULE command_table
#include <boost/test/unit_test.hpp>

#include "p2p/console/command_table.hpp"

using namespace p2p;

namespace {

Command command(const std::string& name, std::vector<std::pair<int, std::string>> help, int* runs = nullptr) {
    return {name, [runs](const Args&) { if (runs) ++*runs; return true; }, std::move(help), nullptr};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(unit)

BOOST_AUTO_TEST_CASE(help_is_the_lab_lines_and_more_is_ours_each_in_rank_order) {
    CommandTable table;
    // Added out of order, from several groups, as the console's files do.
    table.add(command("get", {{CommandTable::ours + 20, "get: ours, second."}}));
    table.add(command("lp", {{30, "lp: the lab's, second."}}));
    table.add(command("scan", {{20, "scan: the lab's, first."}, {CommandTable::ours + 10, "scan <hosts>: ours, first."}}));
    table.add(command("unban", {}));  // no line of its own
    using Lines = std::vector<std::string>;
    const Lines lab = {"scan: the lab's, first.", "lp: the lab's, second."};
    BOOST_TEST(table.usage(CommandTable::Part::lab) == lab, boost::test_tools::per_element());
    const Lines ours = {"scan <hosts>: ours, first.", "get: ours, second."};
    BOOST_TEST(table.usage(CommandTable::Part::ours) == ours, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(one_commands_usage_is_all_its_lines_also_by_alias) {
    CommandTable table;
    table.add(command("scan", {{20, "scan: the lab's."}, {CommandTable::ours + 10, "scan <hosts>: ours."}}));
    table.add(command("help", {{10, "help / ?: Show usage of all commands."}}));
    table.alias("?", "help");
    using Lines = std::vector<std::string>;
    BOOST_TEST(table.usage_of("scan") == (Lines{"scan: the lab's.", "scan <hosts>: ours."}), boost::test_tools::per_element());
    BOOST_TEST(table.usage_of("?") == Lines{"help / ?: Show usage of all commands."}, boost::test_tools::per_element());
    BOOST_TEST(table.usage_of("nope").empty());
}

BOOST_AUTO_TEST_CASE(aliases_and_unknown_names) {
    CommandTable table;
    int runs = 0;
    table.add(command("help", {{10, "help / ?: Show usage of all commands."}}, &runs));
    table.alias("?", "help");
    BOOST_REQUIRE(table.find("?"));
    BOOST_TEST(table.find("?")->name == "help");
    table.find("help")->run({});
    table.find("?")->run({"extra"});
    BOOST_TEST(runs == 2);
    BOOST_TEST(!table.find("hel"));
    BOOST_TEST(!table.find(""));
    BOOST_TEST(!table.find("HELP"));
}

BOOST_AUTO_TEST_CASE(a_name_is_taken_once) {
    CommandTable table;
    table.add(command("get", {}));
    BOOST_CHECK_THROW(table.add(command("get", {})), std::logic_error);
    BOOST_CHECK_THROW(table.alias("?", "help"), std::logic_error);  // no such command
    table.alias("g", "get");
    BOOST_CHECK_THROW(table.alias("g", "get"), std::logic_error);
    BOOST_CHECK_THROW(table.add(command("g", {})), std::logic_error);
}

BOOST_AUTO_TEST_CASE(completion_offers_the_names_with_the_typed_prefix) {
    CommandTable table;
    for (const char* name : {"disconnect", "dht", "connect", "search", "sf", "scan"}) table.add(command(name, {}));
    BOOST_TEST(table.names_starting("d") == (std::vector<std::string>{"dht", "disconnect"}), boost::test_tools::per_element());
    BOOST_TEST(table.names_starting("s") == (std::vector<std::string>{"scan", "search", "sf"}), boost::test_tools::per_element());
    BOOST_TEST(table.names_starting("x").empty());
    BOOST_TEST(table.names_starting("").size() == 6u);
}

BOOST_AUTO_TEST_SUITE_END()
