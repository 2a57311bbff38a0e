// The console's commands in one table: each group of commands (commands.hpp) registers its
// names, its handlers, its help lines and where a peer id goes, so dispatch, `help` and Tab
// completion all come from here.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace p2p {

/// A command's words after its name.
using Args = std::vector<std::string>;

struct Command {
    std::string name;
    /// Runs it; false ends the console (quit).
    std::function<bool(const Args& args)> run;
    /// Its help lines, each with a rank: the lab's eight lines rank below 100, in the lab's
    /// order (`help`); ours from 100 up (`help more`).
    std::vector<std::pair<int, std::string>> help;
    /// Given the words typed before the one being completed (the name first): true when a
    /// peer id goes there. Null: never.
    std::function<bool(const std::vector<std::string>& before)> peer_goes_here;
};

class CommandTable {
public:
    /// Rank at which our lines start, after the lab's.
    static constexpr int ours = 100;

    /// Throws std::logic_error for a name already taken (two groups registering one command).
    void add(Command command);
    /// Another name for a command already added (`?` for `help`); throws std::logic_error
    /// otherwise.
    void alias(const std::string& alias, const std::string& name);
    /// The command named `name`, or null.
    const Command* find(const std::string& name) const;
    enum class Part { lab, ours };
    /// The help text, in rank order: the lab's eight lines exactly as the lab prints them
    /// (`help`, `?`, the start), or ours (`help more`).
    std::vector<std::string> usage(Part part) const;
    /// One command's help lines, all ranks (`help get`); empty for an unknown name.
    std::vector<std::string> usage_of(const std::string& name) const;
    /// The command names starting with `prefix`, in order.
    std::vector<std::string> names_starting(const std::string& prefix) const;

private:
    std::map<std::string, Command> commands_;
    std::map<std::string, std::string> aliases_;
};

}  // namespace p2p
