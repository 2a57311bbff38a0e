#include "p2p/console/command_table.hpp"

#include <algorithm>
#include <stdexcept>

namespace p2p {

void CommandTable::add(Command command) {
    const std::string name = command.name;
    if (commands_.count(name) || aliases_.count(name))
        throw std::logic_error("console command '" + name + "' registered twice");
    commands_.emplace(name, std::move(command));
}

void CommandTable::alias(const std::string& alias, const std::string& name) {
    if (!commands_.count(name) || commands_.count(alias) || aliases_.count(alias))
        throw std::logic_error("console alias '" + alias + "' for '" + name + "' does not fit the table");
    aliases_[alias] = name;
}

const Command* CommandTable::find(const std::string& name) const {
    const auto alias = aliases_.find(name);
    const auto it = commands_.find(alias == aliases_.end() ? name : alias->second);
    return it == commands_.end() ? nullptr : &it->second;
}

std::vector<std::string> CommandTable::usage() const {
    std::vector<std::pair<int, std::string>> ranked;
    for (const auto& [name, command] : commands_)
        ranked.insert(ranked.end(), command.help.begin(), command.help.end());
    std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::string> lines;
    bool beyond = false;
    for (const auto& [rank, text] : ranked) {
        // The lab's eight lines above, unchanged; ours follow, with no ">:" in them: scripts
        // and tests take that for the prompt once "quit: Quit the program." has passed.
        if (rank >= ours && !beyond) {
            lines.push_back("Beyond the lab (README.md, docs/overlay.md):");
            beyond = true;
        }
        lines.push_back(text);
    }
    return lines;
}

std::vector<std::string> CommandTable::names_starting(const std::string& prefix) const {
    std::vector<std::string> names;
    for (const auto& [name, command] : commands_)
        if (name.compare(0, prefix.size(), prefix) == 0) names.push_back(name);
    return names;
}

}  // namespace p2p
