#include "p2p/console/line_editor.hpp"

#include <boost/filesystem/operations.hpp>

#include <cerrno>
#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <unistd.h>

// libedit (BSD licence) through its readline-compatible API.
#include <editline/readline.h>

namespace p2p {
namespace {

// readline is one global state, and its callbacks are plain functions: they reach the editor
// through these (main thread only).
LineEditor::Completer* g_completer = nullptr;
std::vector<std::string> g_candidates;  ///< what the completion generator hands out
bool g_line_done = false;               ///< the line handler ran
char* g_line = nullptr;                 ///< the line it got (nullptr: end of input)

extern "C" void on_line(char* line) {
    g_line_done = true;
    g_line = line;
    // libedit draws the prompt again as soon as this returns: make it draw nothing, the
    // console shows the next prompt once the command's output is written.
    rl_set_prompt("");
}

// rl_completion_matches() calls this with state 0, 1, 2... until it returns nullptr; each
// returned string is malloc'ed and freed by the library.
extern "C" char* next_candidate(const char* text, int state) {
    static std::size_t i;
    if (state == 0) i = 0;
    const std::size_t len = std::strlen(text);
    while (i < g_candidates.size()) {
        const std::string& c = g_candidates[i++];
        if (c.compare(0, len, text) == 0) return ::strdup(c.c_str());
    }
    return nullptr;
}

extern "C" char** complete(const char* text, int start, int /*end*/) {
    rl_attempted_completion_over = 1;  // our words only, never file names
    g_candidates.clear();
    if (g_completer && rl_line_buffer) {
        try {
            g_candidates = (*g_completer)(std::string(rl_line_buffer, static_cast<std::size_t>(start)), text);
        } catch (...) {
            g_candidates.clear();  // no completion rather than an exception through C code
        }
    }
    return rl_completion_matches(text, next_candidate);
}

}  // namespace

LineEditor::LineEditor(int input_fd, boost::filesystem::path history_file, Completer completer)
    : history_file_(std::move(history_file)) {
    if (g_completer) throw std::logic_error("one LineEditor at a time");
    if (::pipe2(doorbell_, O_CLOEXEC | O_NONBLOCK) != 0)
        throw std::runtime_error(std::string("line editor: pipe: ") + std::strerror(errno));
    // Multibyte characters (UTF-8 file names) are edited as characters, not bytes.
    std::setlocale(LC_CTYPE, "");
    g_completer = new Completer(std::move(completer));
    rl_readline_name = "p2p-node";  // for ~/.editrc: "p2p-node:bind ..."
    // Our own SIGINT/SIGTERM handler stays in place: libedit's would re-raise the signal to
    // the whole process group.
    rl_catch_signals = 0;
    if (input_fd != STDIN_FILENO) {
        int fd = ::dup(input_fd);
        rl_instream = fd >= 0 ? ::fdopen(fd, "r") : nullptr;
        if (!rl_instream && fd >= 0) ::close(fd);
        if (!rl_instream) rl_instream = stdin;
    }
    rl_outstream = stdout;
    rl_initialize();
    // Peer ids hold ':' '[' ']' '.': only blanks separate words.
    rl_basic_word_break_characters = " \t";
    rl_completer_word_break_characters = const_cast<char*>(" \t");
    rl_attempted_completion_function = complete;
    stifle_history(max_entries);
    if (!history_file_.empty()) {
        boost::system::error_code ec;
        if (boost::filesystem::exists(history_file_, ec))
            read_history(history_file_.string().c_str());
    }
}

LineEditor::~LineEditor() {
    stop_editing();
    save_history();
    clear_history();
    rl_attempted_completion_function = nullptr;
    if (rl_instream && rl_instream != stdin) {
        std::fclose(rl_instream);
        rl_instream = stdin;
    }
    delete g_completer;
    g_completer = nullptr;
    g_candidates.clear();
    ::close(doorbell_[0]);
    ::close(doorbell_[1]);
}

void LineEditor::drain_doorbell() {
    char buf[256];
    while (::read(doorbell_[0], buf, sizeof buf) > 0) {
    }
}

void LineEditor::show_prompt(const std::string& prompt) {
    stop_editing();
    g_line_done = false;
    g_line = nullptr;
    // Raw mode, and the prompt is drawn at once.
    rl_callback_handler_install(prompt.c_str(), on_line);
    editing_ = true;
}

void LineEditor::redisplay() {
    // The writer left the cursor at the start of an empty line: draw everything from there.
    if (editing_) rl_forced_update_display();
}

LineEditor::Fed LineEditor::feed(std::string& line) {
    if (!editing_) return Fed::more;
    rl_callback_read_char();
    if (!g_line_done) return Fed::more;
    stop_editing();
    if (!g_line) return Fed::end;
    line = g_line;
    std::free(g_line);
    g_line = nullptr;
    // Every command but a repeat of the one before; never blank lines.
    if (line.find_first_not_of(" \t") != std::string::npos) {
        HIST_ENTRY* last = history_length > 0 ? history_get(history_base + history_length - 1) : nullptr;
        if (!last || !last->line || line != last->line) add_history(line.c_str());
    }
    return Fed::line;
}

void LineEditor::stop_editing() {
    if (!editing_) return;
    rl_callback_handler_remove();  // back to the terminal's normal mode
    editing_ = false;
}

bool LineEditor::save_history() {
    if (history_file_.empty()) return true;
    // Written whole, then renamed: an interrupted write never leaves half a history.
    const std::string tmp = history_file_.string() + ".tmp";
    if (write_history(tmp.c_str()) != 0) {
        ::unlink(tmp.c_str());
        return false;
    }
    if (::rename(tmp.c_str(), history_file_.string().c_str()) != 0) {
        ::unlink(tmp.c_str());
        return false;
    }
    return true;
}

}  // namespace p2p
