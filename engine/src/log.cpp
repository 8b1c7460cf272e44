#include "v4/log.h"

#include <mutex>

namespace v4 {

namespace {
std::shared_ptr<spdlog::logger> make_silent_logger() {
    auto logger = std::make_shared<spdlog::logger>("v4");
    logger->set_level(spdlog::level::info);
    return logger;
}
std::mutex g_log_mutex;
} // namespace

spdlog::logger & log() {
    static std::shared_ptr<spdlog::logger> logger = make_silent_logger();
    return *logger;
}

void set_log_sinks(std::vector<spdlog::sink_ptr> sinks, spdlog::level::level_enum level) {
    std::lock_guard lock(g_log_mutex);
    log().sinks() = std::move(sinks);
    log().set_level(level);
    log().flush_on(spdlog::level::warn);
}

} // namespace v4
