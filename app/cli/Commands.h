// The v4 subcommands. Each takes its arguments with the command name first (as argv would be)
// and returns the process exit code; engine failures propagate as v4::Error to main().
#pragma once

#include <QStringList>

namespace v4cli {

int inspectCommand(const QStringList & args);
int runCommand(const QStringList & args);
int chatCommand(const QStringList & args);
int benchCommand(const QStringList & args);
int perplexityCommand(const QStringList & args);
int quantizeCommand(const QStringList & args);
int serveCommand(const QStringList & args);

} // namespace v4cli
