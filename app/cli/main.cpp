// v4: the V4 Chat command-line tool. This file holds the command table and the one place where
// errors become messages and exit codes (docs/cli.md lists them); each command has its own file.
#include <QCoreApplication>

#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include "CliCommon.h"
#include "Commands.h"
#include "core/AppInfo.h"
#include "v4/error.h"
#include "v4/version.h"

namespace {

struct Command {
    const char * name;
    const char * summary;
    int (*run)(const QStringList & args);
};

constexpr Command k_commands[] = {
    {"inspect",    "show what a GGUF model file contains",                    v4cli::inspectCommand},
    {"run",        "answer one prompt, streaming the reply to stdout",        v4cli::runCommand},
    {"chat",       "interactive chat on stdin (works with piped input too)",  v4cli::chatCommand},
    {"bench",      "measure load time, prefill and decode speed, peak memory", v4cli::benchCommand},
    {"perplexity", "perplexity of a text file; KL divergence against a base", v4cli::perplexityCommand},
    {"quantize", "measure sensitivity; write a GGUF with per-tensor types under a size budget", v4cli::quantizeCommand},
    {"serve",      "OpenAI-compatible local HTTP server (/v1/chat/completions)", v4cli::serveCommand},
};

void printUsage(std::FILE * out) {
    std::fprintf(out,
                 "Usage: v4 [--verbose] <command> [options]\n"
                 "       v4 --version | --help | help <command>\n"
                 "\n"
                 "Commands:\n");
    for (const Command & c : k_commands) {
        std::fprintf(out, "  %-12s %s\n", c.name, c.summary);
    }
    std::fprintf(out,
                 "\n"
                 "Run 'v4 <command> --help' for the options of a command.\n"
                 "Without -m, commands use the default model (%s).\n",
                 qPrintable(v4cli::defaultModelPath()));
}

// Engine messages often start with "<stage>: <path>: "; the line already names the file once.
std::string withoutPathPrefix(const std::string & message, const std::string & path) {
    const std::string needle = path + ": ";
    const size_t      at     = message.find(needle);
    if (at != std::string::npos && at <= 16 && message.find(' ') >= at - (at > 0 ? 1 : 0)) {
        return message.substr(at + needle.size());
    }
    return message;
}

const Command * findCommand(const QString & name) {
    for (const Command & c : k_commands) {
        if (name == QLatin1String(c.name)) {
            return &c;
        }
    }
    return nullptr;
}

} // namespace

int main(int argc, char ** argv) {
    QCoreApplication app(argc, argv);
    v4app::initApplicationIdentity(QStringLiteral("v4"));
    v4cli::installInterruptHandler();

    QStringList args = QCoreApplication::arguments();
    // "v4 --verbose run ..." means "v4 run --verbose ...": every command takes --verbose.
    bool verbose = false;
    while (args.size() > 1 && (args.at(1) == QLatin1String("--verbose") || args.at(1) == QLatin1String("-v"))) {
        args.removeAt(1);
        verbose = true;
    }
    if (args.size() < 2) {
        printUsage(stderr);
        return v4cli::k_exit_usage;
    }
    const QString first = args.at(1);
    if (first == QLatin1String("--version") || first == QLatin1String("-V")) {
        std::printf("v4 %s\n", v4::k_version);
        return v4cli::k_exit_ok;
    }
    if (first == QLatin1String("--help") || first == QLatin1String("-h")) {
        printUsage(stdout);
        return v4cli::k_exit_ok;
    }
    if (first == QLatin1String("help")) {
        if (args.size() < 3) {
            printUsage(stdout);
            return v4cli::k_exit_ok;
        }
        args = {args.at(2), QStringLiteral("--help")};
    } else {
        args.removeFirst(); // the command name now plays argv[0]
    }
    if (verbose) {
        args.append(QStringLiteral("--verbose"));
    }

    const Command * command = findCommand(args.first());
    if (!command) {
        std::fprintf(stderr, "v4: unknown command '%s' (run 'v4 --help' for the list)\n", qPrintable(args.first()));
        return v4cli::k_exit_usage;
    }

    // Every failure ends here as one line on stderr; nothing escapes as a crash.
    try {
        return command->run(args);
    } catch (const v4cli::UsageError & e) {
        std::fprintf(stderr, "v4 %s: %s\n", command->name, e.what());
        return v4cli::k_exit_usage;
    } catch (const v4cli::FileError & e) {
        std::fprintf(stderr, "v4: %s: %s\n", e.path().c_str(), withoutPathPrefix(e.what(), e.path()).c_str());
        return e.code() == v4::ErrorCode::cancelled ? v4cli::k_exit_interrupted : v4cli::k_exit_error;
    } catch (const v4::Error & e) {
        if (e.code() == v4::ErrorCode::cancelled) {
            std::fprintf(stderr, "v4: interrupted\n");
            return v4cli::k_exit_interrupted;
        }
        std::fprintf(stderr, "v4: %s\n", e.what());
        return v4cli::k_exit_error;
    } catch (const std::bad_alloc &) {
        std::fprintf(stderr, "v4: out of memory\n");
        return v4cli::k_exit_error;
    } catch (const std::exception & e) {
        std::fprintf(stderr, "v4: internal error: %s\n", e.what());
        return v4cli::k_exit_error;
    }
}
