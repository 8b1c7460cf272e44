# CPack: the v4chat .deb (Debian 12 and later) and a relocatable .tar.gz of the same files.
# Included from installer/CMakeLists.txt, which sets V4_PACKAGE_NAME, V4_PACKAGE_MAINTAINER and
# installs everything as COMPONENT v4chat. Build the packages in the build folder with
#   cpack -G DEB && cpack -G TGZ
# and check them with tests/packaging/test_package.sh (ctest -L packaging).

set(CPACK_PACKAGE_NAME "${V4_PACKAGE_NAME}")
set(CPACK_PACKAGE_VENDOR "The V4 Chat developers")
set(CPACK_PACKAGE_CONTACT "${V4_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_HOMEPAGE_URL "${PROJECT_HOMEPAGE_URL}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "desktop chat with local language models")
set(CPACK_PACKAGE_INSTALL_DIRECTORY "${V4_PACKAGE_NAME}")
set(CPACK_RESOURCE_FILE_LICENSE "${PROJECT_SOURCE_DIR}/installer/copyright")
set(CPACK_PACKAGE_DIRECTORY "${PROJECT_BINARY_DIR}/packages")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)
# Only what make install would install, not the source tree.
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/;/build[^/]*/")

# One package made of the v4chat component only (see installer/CMakeLists.txt).
set(CPACK_COMPONENTS_ALL v4chat)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_ARCHIVE_COMPONENT_INSTALL ON)

# --- DEB ------------------------------------------------------------------------------------
set(CPACK_DEBIAN_PACKAGE_NAME "${V4_PACKAGE_NAME}")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)          # v4chat_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${V4_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION "utils")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "${PROJECT_HOMEPAGE_URL}")
# The long description: lines of at most 80 characters, no leading article in the synopsis
# (lintian). CPack indents each line by one space and writes an empty line as " .".
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"desktop chat with local language models
V4 Chat is a desktop chat application with its own inference engine. It runs
GGUF language models on this computer, on the CPU or on an NVIDIA GPU, or talks
to an OpenAI-compatible server, and keeps conversations and documents in a
local database.

The package contains the v4chat desktop app and the v4 command-line tool, which
runs, inspects, benchmarks, quantizes and serves models.")
# Runtime dependencies from the ELF files (dpkg-shlibdeps, from dpkg-dev). Qt plugins are
# loaded with dlopen, so the ones the app needs at run time are listed by hand.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "qt6-svg-plugins, qt6-qpa-plugins")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "xvfb")
# 0644 for the control files and md5sums as dpkg wants them.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
# Directories CPack creates get 0755 whatever the umask is.
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS ${CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS})

# --- TGZ ------------------------------------------------------------------------------------
set(CPACK_ARCHIVE_FILE_NAME "${V4_PACKAGE_NAME}-${PROJECT_VERSION}-${CMAKE_SYSTEM_PROCESSOR}")

set(CPACK_GENERATOR "DEB;TGZ")
include(CPack)
