// Shared plumbing of the v4 subcommands: exit codes, error types, option parsing, model loading,
// interrupt handling and small measuring helpers.
#pragma once

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QString>
#include <QStringList>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "v4/error.h"
#include "v4/model.h"
#include "v4/sampler.h"
#include "v4/tokenizer.h"

namespace v4cli {

// Exit codes (docs/cli.md).
inline constexpr int k_exit_ok          = 0;
inline constexpr int k_exit_error       = 1;   // the engine or the system failed (bad file, I/O, ...)
inline constexpr int k_exit_usage       = 2;   // bad command line
inline constexpr int k_exit_interrupted = 130; // Ctrl+C (SIGINT) during work

// A bad command line: main() prints "v4 <command>: <message>" and exits with k_exit_usage.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// An engine error about a named file: main() prints "v4: <path>: <message>".
class FileError : public v4::Error {
public:
    FileError(std::string path, const v4::Error & e) : v4::Error(e.code(), e.what()), m_path(std::move(path)) {}
    const std::string & path() const { return m_path; }

private:
    std::string m_path;
};

// The first SIGINT raises the flag (generation stops cleanly); a second one exits at once.
void                      installInterruptHandler();
const std::atomic<bool> * interruptFlag();
bool                      interrupted();

QString defaultModelPath();

// Sends CLI logs to the rotating file always and to stderr only with --verbose.
void setupCliLogging(bool verbose);

// Parses `args` (args[0] is the command name). Prints the help and returns false for --help;
// throws UsageError for unknown options or missing values. `usage` is the synopsis line.
bool parseCommandLine(QCommandLineParser & parser, const QStringList & args, const QString & usage);

// Typed option values; throw UsageError naming the option when the value is not a number in range.
int    intValue(const QCommandLineParser & parser, const QString & name, int min, int max);
double doubleValue(const QCommandLineParser & parser, const QString & name, double min, double max);
uint64_t u64Value(const QCommandLineParser & parser, const QString & name);

// Options every model command has: -m/--model, -t/--threads, -c/--ctx, --verbose.
void addModelOptions(QCommandLineParser & parser, int defaultCtx);
// --temp --top-k --top-p --min-p --repeat-penalty --repeat-last-n --seed
void addSamplingOptions(QCommandLineParser & parser);
v4::sampler_params samplingParams(const QCommandLineParser & parser);

std::string modelPath(const QCommandLineParser & parser);
int         threadCount(const QCommandLineParser & parser);

// Loads a model; errors come back as FileError naming the path.
std::shared_ptr<const v4::model> loadModel(const std::string & path, int threads);

// Opens the tokenizer stored in a GGUF file; errors come back as FileError naming the path.
v4::tokenizer openTokenizer(const std::string & path);

// Writes to stdout and flushes, so streamed tokens appear as they are produced.
void writeOut(std::string_view text);

// Peak resident set size of this process in bytes (VmHWM), 0 when unknown.
uint64_t peakRssBytes();

class Stopwatch {
public:
    Stopwatch() : m_start(std::chrono::steady_clock::now()) {}
    void   restart() { m_start = std::chrono::steady_clock::now(); }
    double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count(); }
    double ms() const { return seconds() * 1000.0; }

private:
    std::chrono::steady_clock::time_point m_start;
};

} // namespace v4cli
