# Qt and the other Debian-packaged dependencies of app/ and ui/.
set(CMAKE_AUTOMOC ON)
set(CMAKE_AUTORCC ON)
find_package(Qt6 6.4 REQUIRED COMPONENTS Core Gui Widgets Network Concurrent Sql HttpServer Svg Test)
# API keys in the OS keychain (app/backends/ApiKeyStore); Debian: qtkeychain-qt6-dev.
find_package(Qt6Keychain REQUIRED)
