# libFuzzer targets for the module itself (included by tests/fuzz/CMakeLists.txt
# once TDXSIM_FUZZ_CLANG can link -fsanitize=fuzzer):
#   fuzz_seamcall  the SEAMCALL dispatcher from four prepared states (fresh,
#                  READY, TD initialised, TD running) with arbitrary leaves and
#                  registers, addresses biased toward the interesting PAs
#   fuzz_params    TD_PARAMS (TDH.MNG.INIT) and TDMR_INFO (TDH.SYS.CONFIG)
#                  written at the PA the leaf reads
#   fuzz_tdcall    guest TDCALLs with arbitrary registers, from a running
#                  hand-assembled guest
# tdxsim_check_invariants() runs after every call; a violation aborts. Each
# prepared state is built once per process and restored from a snapshot for
# every input (fuzz_common.h; TDXSIM_FUZZ_FRESH=1 builds it afresh each time).
#
# The library must be instrumented too, so it is built a second time, by
# clang, in a nested CMake build tree (fuzzlib/, -fsanitize=fuzzer-no-link,
# address,undefined); cmake --build there is incremental. The targets link it
# with the harness sources (tsim.c, tsim_td.c) compiled alongside and the
# libraries the nested build links libtdxsim with (fuzz_deps.cmake).

set(FZ_LIB_DIR ${CMAKE_CURRENT_BINARY_DIR}/fuzzlib)
set(FZ_LIB ${FZ_LIB_DIR}/libtdxsim.a)
set(FZ_DEPS ${FZ_LIB_DIR}/deps.rsp)
set(FZ_SAN -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
string(REPLACE ";" " " FZ_SAN_STR "${FZ_SAN}")
add_custom_target(fuzz_tdxsim_lib ALL
  COMMAND ${CMAKE_COMMAND} -S ${CMAKE_SOURCE_DIR} -B ${FZ_LIB_DIR}
          -DCMAKE_C_COMPILER=${TDXSIM_FUZZ_CLANG} -DCMAKE_BUILD_TYPE=RelWithDebInfo
          "-DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link ${FZ_SAN_STR}"
          -DTDXSIM_TESTS=OFF -DTDXSIM_BENCH=OFF -DTDXSIM_SANITIZE=OFF --log-level=WARNING
  COMMAND ${CMAKE_COMMAND} --build ${FZ_LIB_DIR} --target tdxsim_static
  COMMAND ${CMAKE_COMMAND} -DLINK_TXT=${FZ_LIB_DIR}/CMakeFiles/tdxsim.dir/link.txt
          -DOUT=${FZ_DEPS} -P ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_deps.cmake
  BYPRODUCTS ${FZ_LIB} ${FZ_DEPS}
  COMMENT "Building libtdxsim with ${TDXSIM_FUZZ_CLANG} for the fuzz targets (${FZ_LIB_DIR})"
  VERBATIM)

set(FZ_HARNESS ${CMAKE_SOURCE_DIR}/tests/harness/tsim.c ${CMAKE_SOURCE_DIR}/tests/harness/tsim_td.c)
file(GLOB FZ_HEADERS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/harness/*.h
     ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_*.h)

# Bounded runs: 20 s each from the seeds in tests/fuzz/<name>; new inputs go
# to a scratch corpus in the build tree, crash reproducers to artifacts-<name>/.
# -detect_leaks=0 turns off libFuzzer's per-input leak check, which re-runs
# every input whose mallocs outnumber its frees (each guest run does: Unicorn's
# 32 bytes, tests/lsan.supp); LeakSanitizer still checks at exit, after every
# simulator the run opened was closed. -timeout is generous because the
# machine is shared; a hang still fails.
foreach(name seamcall params tdcall)
  set(bin ${CMAKE_CURRENT_BINARY_DIR}/fuzz_${name})
  set(src ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_${name}.c)
  add_custom_command(OUTPUT ${bin}
    COMMAND ${TDXSIM_FUZZ_CLANG} -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror
            -fsanitize=fuzzer ${FZ_SAN}
            -I${CMAKE_SOURCE_DIR}/abi -I${CMAKE_SOURCE_DIR} -I${CMAKE_SOURCE_DIR}/tests/harness
            -I${CMAKE_CURRENT_SOURCE_DIR}
            ${src} ${FZ_HARNESS} ${FZ_LIB} @${FZ_DEPS} -lpthread -lm -o ${bin}
    DEPENDS ${src} ${FZ_HARNESS} ${FZ_HEADERS} ${FZ_LIB} ${FZ_DEPS} fuzz_tdxsim_lib
    COMMENT "Building fuzz_${name} with ${TDXSIM_FUZZ_CLANG} (libFuzzer)")
  add_custom_target(fuzz_${name} ALL DEPENDS ${bin})
  set(corpus ${CMAKE_CURRENT_BINARY_DIR}/corpus-${name})
  set(artifacts ${CMAKE_CURRENT_BINARY_DIR}/artifacts-${name}/)
  add_test(NAME fuzz_${name}
    COMMAND sh -c "mkdir -p \"$1\" \"$2\" && exec \"$0\" -max_total_time=20 -max_len=4096 -timeout=30 -rss_limit_mb=4096 -detect_leaks=0 -print_final_stats=1 -artifact_prefix=\"$2\" \"$1\" \"$3\""
            ${bin} ${corpus} ${artifacts} ${CMAKE_CURRENT_SOURCE_DIR}/${name})
  # Unicorn's own 32-byte leak per hooked engine (tests/lsan.supp).
  set_tests_properties(fuzz_${name} PROPERTIES LABELS fuzz TIMEOUT 120
    ENVIRONMENT "LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/lsan.supp")
endforeach()
