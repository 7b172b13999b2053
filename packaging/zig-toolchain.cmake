# The portable build of the native modules shipped in the package (`make package`), with zig's
# clang (PyPI package `ziglang`) as C/C++ compiler:
# - targets glibc CTDETECT_GLIBC (default 2.17, the manylinux2014 floor) through zig's own
#   glibc stubs, so the modules load on every Linux x86-64 host Splunk supports;
# - links zig's libc++, libc++abi and libunwind statically: no libstdc++/libgcc_s needed;
# - simdjson is compiled in from source (CTDETECT_SIMDJSON_SOURCE_DIR, see CMakeLists.txt).
# Needs -DCTDETECT_ZIG=<zig executable> (packaging/build_package.py passes it).
# Host and target are both Linux x86-64: no CMAKE_SYSTEM_NAME (it would make CMake treat this as
# cross-compiling, and FindPython would not run the interpreter).
set(CTDETECT_ZIG "" CACHE FILEPATH "The zig executable (site-packages/ziglang/zig)")
set(CTDETECT_GLIBC "2.17" CACHE STRING "Oldest glibc the shipped modules must load on")
if(NOT CTDETECT_ZIG)
  # try_compile projects do not see the cache: the variable comes through the environment.
  set(CTDETECT_ZIG "$ENV{CTDETECT_ZIG}")
endif()
if(NOT CTDETECT_ZIG)
  message(FATAL_ERROR "zig-toolchain.cmake needs -DCTDETECT_ZIG=<path to zig>")
endif()
set(ENV{CTDETECT_ZIG} "${CTDETECT_ZIG}")
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES CTDETECT_ZIG CTDETECT_GLIBC)

# CMake wants one executable per compiler: small wrappers around `zig cc` / `zig c++`.
# zig caches every object it compiles, keyed by the source, each header it includes and the
# flags, but not when asked for a depfile: the wrappers drop -MD/-MT/-MF, so the second Python's
# build reuses the core's objects from the first. Without depfiles Ninja cannot see header
# changes, so these build folders are always built with `cmake --build <dir> --clean-first`
# (packaging/build_package.py does), which costs only cache look-ups for unchanged files.
set(_ctdetect_wrappers "${CMAKE_BINARY_DIR}/zig-wrappers")
if(CMAKE_BINARY_DIR MATCHES "/CMakeFiles/CMakeScratch/|/CMakeFiles/CMakeTmp")
  string(REGEX REPLACE "/CMakeFiles/.*$" "" _ctdetect_top "${CMAKE_BINARY_DIR}")
  set(_ctdetect_wrappers "${_ctdetect_top}/zig-wrappers")
endif()
foreach(_tool cc c++)
  file(WRITE "${_ctdetect_wrappers}/zig-${_tool}.tmp" "#!/bin/sh
skip=0
for arg do
  shift
  if [ $skip = 1 ]; then skip=0; continue; fi
  case \"$arg\" in
    -MD|-MMD) continue ;;
    -MT|-MF|-MQ) skip=1; continue ;;
  esac
  set -- \"$@\" \"$arg\"
done
exec \"${CTDETECT_ZIG}\" ${_tool} -target x86_64-linux-gnu.${CTDETECT_GLIBC} \"$@\"
")
  file(COPY "${_ctdetect_wrappers}/zig-${_tool}.tmp" DESTINATION "${_ctdetect_wrappers}/bin"
       FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
  file(RENAME "${_ctdetect_wrappers}/bin/zig-${_tool}.tmp" "${_ctdetect_wrappers}/bin/zig-${_tool}")
endforeach()
set(CMAKE_C_COMPILER "${_ctdetect_wrappers}/bin/zig-cc")
set(CMAKE_CXX_COMPILER "${_ctdetect_wrappers}/bin/zig-c++")

# pybind11 adds -flto unless told otherwise; zig's LTO objects would need zig's ar.
set(CMAKE_INTERPROCEDURAL_OPTIMIZATION OFF)
# zig names CPUs its own way; the same target as the developer build (x86-64-v2 plus PCLMUL:
# simdjson's SSE4.2 "westmere" kernel).
set(CTDETECT_ARCH_FLAGS "-mcpu=x86_64_v2+pclmul" CACHE STRING "Target flags for the core")
# Export only PyInit_* (and libc++'s replaceable operator new/delete): the core, simdjson and
# libc++ stay private to each module (Python loads extensions with RTLD_LOCAL besides).
set(CMAKE_CXX_VISIBILITY_PRESET hidden)
set(CMAKE_VISIBILITY_INLINES_HIDDEN ON)
