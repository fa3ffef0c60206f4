#!/usr/bin/env bash
# Installs tdxsim into a temporary prefix and builds a consumer against it
# twice: with pkg-config and with CMake's find_package(tdxsim). The consumer
# runs and must bring the module up.
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig:$tmp/prefix/lib/x86_64-linux-gnu/pkgconfig"
libdir=$(pkg-config --variable=libdir tdxsim)
# SONAME is versioned and only the public API is exported.
soname=$(objdump -p "$libdir/libtdxsim.so" | awk '/SONAME/ {print $2}')
[ "$soname" = "libtdxsim.so.0" ] || { echo "unexpected SONAME '$soname'"; exit 1; }
bad=$(nm -D --defined-only "$libdir/libtdxsim.so" | awk '{print $3}' |
      grep -Ev '^(tdxsim_|tdx_|__seamcall|_init$|_fini$)' || true)
[ -z "$bad" ] || { echo "non-API symbols exported: $bad"; exit 1; }
cc -std=c11 -Wall -Wextra -Werror "$src/examples/bringup.c" -o "$tmp/pc-consumer" \
   $(pkg-config --cflags --libs tdxsim) -Wl,-rpath,"$libdir"
"$tmp/pc-consumer" >"$tmp/out.txt"
grep -q "Module state: READY" "$tmp/out.txt"
mkdir -p "$tmp/cm"
cat >"$tmp/cm/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.20)
project(consumer C)
find_package(tdxsim 0.1 REQUIRED)
add_executable(consumer $src/examples/bringup.c)
target_link_libraries(consumer PRIVATE tdxsim::tdxsim)
CM
cmake -S "$tmp/cm" -B "$tmp/cm/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/cm/build" >/dev/null
LD_LIBRARY_PATH="$libdir" "$tmp/cm/build/consumer" | grep -q "Module state: READY"
echo "install: pkg-config and CMake consumers OK (SONAME $soname)"
