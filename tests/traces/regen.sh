#!/bin/sh
# Re-record the golden traces of tests/traces from a build tree (after a
# change that alters what SEAMCALLs or guest runs return; review the diff of
# `tdxsim stats` before committing them): tests/traces/regen.sh BUILD_DIR
#   bringup-td-{spr,gnr}   (not re-recorded: written before format minor 1,
#                          they keep the reader honest about older traces)
#   linux612-*, linux73-*  one scenario of the Linux conformance suites each
#                          (their build fetches the kernel sources);
#                          linux612-entropy_retry_sys_init is format minor 1
#                          (injected statuses skipped on replay): not
#                          re-recorded either, it keeps that path tested
#   guest-*                guest tests (TD guests: VP.ENTER, TD exits, TDCALLs,
#                          shared memory the host writes)
# Recorded with TDXSIM_TRACE (the programs are not changed), then re-gzipped
# whole (a program that exits without tdxsim_close leaves a stream that ends
# at a flush point) and replayed once to check them.
set -eu
B=$(cd "$1" && pwd)
T=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

rec() { # NAME COMMAND...
	name=$1; shift
	TDXSIM_TRACE="$TMP/$name.jsonl.gz" "$@" >"$TMP/$name.log" 2>&1 || { cat "$TMP/$name.log"; exit 1; }
	gzip -dc "$TMP/$name.jsonl.gz" 2>/dev/null | gzip -9n >"$T/$name.jsonl.gz" || true
	"$B/tdxsim" replay "$T/$name.jsonl.gz"
}

rec linux612-boot_success "$B/tests/linux/test_linux612" boot_success
rec linux73-td_vp_enter_vmcall "$B/tests/linux/test_linux73" td_vp_enter_vmcall
rec linux73-fault_plan_retried "$B/tests/linux/test_linux73" fault_plan_retried
(cd "$B/tests" && rec guest-shared ./test_guest_shared)
(cd "$B/tests" && rec guest-mmio ./test_guest_mmio)
ls -l "$T"/*.jsonl.gz
