// v4 run: one prompt in, the reply streamed to stdout as it is generated.
#include <cstdio>
#include <iostream>
#include <iterator>

#include "CliCommon.h"
#include "Commands.h"
#include "Generate.h"
#include "v4/chat.h"

namespace v4cli {

int runCommand(const QStringList & args) {
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Answer one prompt; the reply streams to stdout."));
    addModelOptions(parser, 4096);
    parser.addPositionalArgument(QStringLiteral("PROMPT"), QStringLiteral("The prompt (or use -p)."), QStringLiteral("[PROMPT]"));
    parser.addOptions({
        {{QStringLiteral("p"), QStringLiteral("prompt")}, QStringLiteral("The prompt; '-' reads it from stdin."), QStringLiteral("TEXT")},
        {QStringLiteral("raw"), QStringLiteral("Feed the prompt as is, without the chat template.")},
        {QStringLiteral("verbose-prompt"), QStringLiteral("Print the prompt's tokens (id and text) to stderr.")},
        {QStringLiteral("device"), QStringLiteral("cpu, cuda or auto (default cpu)."), QStringLiteral("NAME"), QStringLiteral("cpu")},
    });
    addGenerationOptions(parser, 512);
    addSamplingOptions(parser);
    if (!parseCommandLine(parser, args, QStringLiteral("v4 run [-m FILE] [options] (-p TEXT | PROMPT)"))) {
        return k_exit_ok;
    }
    const QStringList positional = parser.positionalArguments();
    if (parser.isSet(QStringLiteral("prompt")) == !positional.isEmpty() || positional.size() > 1) {
        throw UsageError("needs the prompt: -p TEXT or one PROMPT argument (quote it)");
    }
    std::string prompt = (positional.isEmpty() ? parser.value(QStringLiteral("prompt")) : positional.first()).toStdString();
    if (prompt == "-") {
        prompt.assign(std::istreambuf_iterator<char>(std::cin), {});
    }
    const bool                verbose  = parser.isSet(QStringLiteral("verbose"));
    const bool                raw      = parser.isSet(QStringLiteral("raw"));
    const int                 nCtx     = intValue(parser, QStringLiteral("ctx"), 0, 1 << 24);
    const int                 threads  = threadCount(parser);
    const v4::sampler_params  sampling = samplingParams(parser);
    const std::optional<bool> thinking = thinkingOption(parser);
    v4::compute_device        computeDevice{};
    if (!v4::parse_compute_device(parser.value(QStringLiteral("device")).toStdString(), computeDevice)) {
        throw UsageError("--device wants cpu, cuda or auto, got '" + parser.value(QStringLiteral("device")).toStdString() + "'");
    }
    setupCliLogging(verbose);

    const std::string  path  = modelPath(parser);
    const auto         model = loadModel(path, threads);
    v4::session_params sp;
    sp.n_ctx     = static_cast<uint32_t>(nCtx);
    sp.n_threads = threads;
    sp.device    = computeDevice;
    std::optional<v4::chat_runner> chat;
    try {
        chat.emplace(model, sp);
    } catch (const v4::Error & e) {
        throw FileError(path, e);
    }
    const v4::generation_params gp = generationParams(parser, chat->get_tokenizer());

    std::string last;
    auto        print = [&](std::string_view text) {
        if (!text.empty()) {
            last = std::string(text.substr(text.size() - 1));
        }
        writeOut(text);
    };

    auto showTokens = [&](const std::vector<int32_t> & tokens) {
        if (!parser.isSet(QStringLiteral("verbose-prompt"))) {
            return;
        }
        std::fprintf(stderr, "prompt: %zu tokens\n", tokens.size());
        for (const int32_t id : tokens) {
            std::fprintf(stderr, "%8d -> '%s'\n", id, chat->get_tokenizer().token_to_piece(id).c_str());
        }
    };

    ReplyStats stats;
    if (raw) {
        v4::sampler                sampler(sampling);
        const std::vector<int32_t> tokens = encodePrompt(chat->get_tokenizer(), prompt, /*templated=*/false);
        showTokens(tokens);
        stats = generateReply(chat->get_session(), chat->get_tokenizer(), sampler, tokens, gp, print);
    } else {
        v4::chat_request request;
        if (parser.isSet(QStringLiteral("system"))) {
            request.messages.push_back({"system", parser.value(QStringLiteral("system")).toStdString(), {}});
        }
        request.messages.push_back({"user", prompt, {}});
        request.enable_thinking = thinking;
        request.sampling        = sampling;
        request.max_tokens      = gp.max_tokens;
        request.stop            = gp.stop;
        if (verbose) {
            std::fprintf(stderr, "--- prompt (%s template) ---\n%s\n---\n",
                         chat->template_is_builtin() ? "built-in" : "the file's", chat->render_prompt(request).c_str());
        }
        showTokens(chat->tokenize_prompt(chat->render_prompt(request)));
        stats = statsOf(chat->generate(request, print, interruptFlag()));
    }
    if (last != "\n") {
        writeOut("\n");
    }
    if (verbose) {
        printReplyStats(stats);
    }
    return stats.interrupted ? k_exit_interrupted : k_exit_ok;
}

} // namespace v4cli
