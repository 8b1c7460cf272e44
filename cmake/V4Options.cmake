# Compiler settings shared by every target: warnings, ccache, sanitizers.
find_program(V4_CCACHE ccache)
if(V4_CCACHE)
    set(CMAKE_C_COMPILER_LAUNCHER   "${V4_CCACHE}")
    set(CMAKE_CXX_COMPILER_LAUNCHER "${V4_CCACHE}")
    set(CMAKE_CUDA_COMPILER_LAUNCHER "${V4_CCACHE}")
endif()

add_library(v4_warnings INTERFACE)
target_compile_options(v4_warnings INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wno-missing-field-initializers>)

# Hardening that Debian expects of packaged binaries (lintian: hardening-no-fortify-functions).
if(NOT V4_SANITIZE AND NOT CMAKE_BUILD_TYPE STREQUAL "Debug")
    add_compile_definitions($<$<COMPILE_LANGUAGE:C,CXX>:_FORTIFY_SOURCE=2>)
endif()

if(V4_SANITIZE)
    add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    add_link_options(-fsanitize=address,undefined)
endif()

# Every binary lands in one folder so tests and tools find each other without guessing.
set(CMAKE_RUNTIME_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/bin")
set(CMAKE_ARCHIVE_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/lib")
