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

std::vector<std::string> CommandTable::usage(Part part) const {
    std::vector<std::pair<int, std::string>> ranked;
    for (const auto& [name, command] : commands_)
        for (const auto& line : command.help)
            if ((line.first >= ours) == (part == Part::ours)) ranked.push_back(line);
    std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::string> lines;
    for (auto& line : ranked) lines.push_back(std::move(line.second));
    return lines;
}

std::vector<std::string> CommandTable::usage_of(const std::string& name) const {
    std::vector<std::string> lines;
    if (const Command* command = find(name))
        for (const auto& line : command->help) lines.push_back(line.second);
    return lines;
}

std::vector<std::string> CommandTable::names_starting(const std::string& prefix) const {
    std::vector<std::string> names;
    for (const auto& [name, command] : commands_)
        if (name.compare(0, prefix.size(), prefix) == 0) names.push_back(name);
    return names;
}

}  // namespace p2p
