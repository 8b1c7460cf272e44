// Engine logging. The library never prints by itself: it logs to the spdlog logger named "v4",
// which starts with no sinks. Hosts (the app, the CLI) attach theirs with set_log_sinks().
#pragma once

#include <memory>
#include <vector>

#include <spdlog/logger.h>

namespace v4 {

// The engine's logger; never null.
spdlog::logger & log();

// Replace the engine logger's sinks (e.g. console + rotating file) and set its level.
void set_log_sinks(std::vector<spdlog::sink_ptr> sinks, spdlog::level::level_enum level);

} // namespace v4
