// v4 chat: an interactive conversation on stdin/stdout. Each turn renders the whole history
// through the chat template; the session keeps the previous turns in its cache, so only the new
// tokens are prefilled (--verbose prints how many were reused).
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "CliCommon.h"
#include "Commands.h"
#include "Generate.h"
#include "v4/chat.h"

namespace v4cli {

namespace {

std::string trimmed(const std::string & s) {
    const size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) {
        return {};
    }
    const size_t e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

} // namespace

int chatCommand(const QStringList & args) {
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Interactive chat: one message per line on stdin. /reset clears the history, /exit quits."));
    addModelOptions(parser, 4096);
    addGenerationOptions(parser, 1024);
    addSamplingOptions(parser);
    if (!parseCommandLine(parser, args, QStringLiteral("v4 chat [-m FILE] [options]"))) {
        return k_exit_ok;
    }
    const bool               verbose  = parser.isSet(QStringLiteral("verbose"));
    const int                nCtx     = intValue(parser, QStringLiteral("ctx"), 0, 1 << 24);
    const int                threads  = threadCount(parser);
    v4::chat_request         request;
    request.sampling        = samplingParams(parser);
    request.enable_thinking = thinkingOption(parser);
    setupCliLogging(verbose);

    const std::string  path  = modelPath(parser);
    const auto         model = loadModel(path, threads);
    v4::session_params sp;
    sp.n_ctx     = static_cast<uint32_t>(nCtx);
    sp.n_threads = threads;
    std::optional<v4::chat_runner> chat;
    try {
        chat.emplace(model, sp);
    } catch (const v4::Error & e) {
        throw FileError(path, e);
    }
    const v4::generation_params gp = generationParams(parser, chat->get_tokenizer());
    request.max_tokens             = gp.max_tokens;
    request.stop                   = gp.stop;

    std::vector<v4::chat_message> & history = request.messages;
    if (parser.isSet(QStringLiteral("system"))) {
        history.push_back({"system", parser.value(QStringLiteral("system")).toStdString(), {}});
    }
    const size_t   keep        = history.size(); // the system message survives /reset and trimming
    const uint32_t nCtxReal    = chat->get_session().n_ctx();
    const bool     interactive = isatty(STDIN_FILENO);
    if (interactive) {
        std::fprintf(stderr, "%s (%s, context %u). /reset clears the history, /exit quits.\n",
                     model->info().name.c_str(), model->info().architecture.c_str(), nCtxReal);
    }

    int turn = 0;
    for (std::string line;;) {
        if (interactive) {
            writeOut("> ");
        }
        if (!std::getline(std::cin, line)) {
            break;
        }
        const std::string text = trimmed(line);
        if (text.empty()) {
            continue;
        }
        if (text == "/exit" || text == "/quit") {
            break;
        }
        if (text == "/reset") {
            history.resize(keep);
            std::fprintf(stderr, "(history cleared)\n");
            continue;
        }

        history.push_back({"user", text, {}});
        // Drop the oldest exchanges while the prompt leaves too little room for a reply.
        const size_t room   = std::min<size_t>(nCtxReal / 4, 256);
        auto         length = [&] { return chat->tokenize_prompt(chat->render_prompt(request)).size(); };
        while (history.size() > keep + 1 && length() + room > nCtxReal) {
            history.erase(history.begin() + static_cast<ptrdiff_t>(keep));
        }
        if (length() + 1 >= nCtxReal) {
            std::fprintf(stderr, "v4: this message does not fit the context (%zu tokens, ctx %u); try a larger --ctx\n",
                         length(), nCtxReal);
            history.pop_back();
            continue;
        }

        v4::chat_result result;
        try {
            result = chat->generate(request, [](std::string_view piece) { writeOut(piece); }, interruptFlag());
        } catch (const v4::Error & e) {
            if (e.code() != v4::ErrorCode::cancelled) {
                throw;
            }
            writeOut("\n");
            break; // Ctrl+C
        }
        writeOut("\n");
        history.push_back({"assistant", result.text, {}});
        ++turn;
        if (verbose) {
            std::fprintf(stderr, "turn %d prefill: %u reused, %u new tokens (%u total)\n", turn, result.n_reused,
                         result.n_evaluated, result.n_prompt);
            printReplyStats(statsOf(result));
        }
    }
    return interrupted() ? k_exit_interrupted : k_exit_ok;
}

} // namespace v4cli
