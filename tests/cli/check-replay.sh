#!/bin/sh
# Tests of `tdxsim replay` (label trace): check-replay.sh TDXSIM BRINGUP TRACES_DIR CASE
# TRACES_DIR holds the golden traces (tests/traces); BRINGUP is tdxsim-bringup,
# used to record a fresh trace at test time. Any mismatch exits 1.
set -u
TDXSIM=$1
BRINGUP=$2
TRACES=$3
CASE=$4
FILE=${5:-}
TMP=$(mktemp -d)
OUT=$TMP/out ERR=$TMP/err
trap 'rm -rf "$TMP"' EXIT
GOLD=$TRACES/bringup-td-spr.jsonl.gz

fail() {
	echo "FAIL ($CASE): $*" >&2
	echo "--- stdout:" >&2; head -c 4000 "$OUT" >&2
	echo "--- stderr:" >&2; head -c 4000 "$ERR" >&2
	exit 1
}
run() {
	want=$1; shift
	"$TDXSIM" "$@" >"$OUT" 2>"$ERR"
	got=$?
	[ "$got" -eq "$want" ] || fail "tdxsim $* exited $got, expected $want"
}
has_out() { grep -q -- "$1" "$OUT" || fail "stdout lacks '$1'"; }
has_err() { grep -q -- "$1" "$ERR" || fail "stderr lacks '$1'"; }
count_out() { n=$(grep -c -- "$1" "$OUT"); [ "$n" -eq "$2" ] || fail "stdout has $n lines with '$1', expected $2"; }

# tamper IN OUT SEQ...: copy trace IN (gz) to plain OUT with the status of the
# seamcall events SEQ... changed to TDX_OPERAND_INVALID (0xc000010000000000).
tamper() {
	in=$1 out=$2; shift 2
	zcat -f "$in" >"$out.tmp" || fail "cannot read $in"
	for seq in "$@"; do
		sed -i "s/^\({\"ev\":\"seamcall\",\"seq\":$seq,.*\"status\":\"\)0x0\"/\10xc000010000000000\"/" "$out.tmp"
		grep -q "\"seq\":$seq,.*\"status\":\"0xc000010000000000\"" "$out.tmp" || fail "could not tamper seq $seq"
	done
	mv "$out.tmp" "$out"
}

case $CASE in
golden)
	for f in "$TRACES"/*.jsonl.gz; do
		run 0 replay "$f"; has_out 'every status and register matched'; has_out ' 0 divergences'
	done
	;;
one)
	# One golden trace: exit 0, every event matched; what it must contain.
	run 0 replay "$FILE"; has_out ' 0 divergences: every status and register matched'
	case $(basename "$FILE") in
	guest-*|linux73-td_*) has_out ' TD exits and ' ;;
	esac
	case $(basename "$FILE") in
	*entropy*) has_out 'with an injected status not issued' ;;
	*fault_plan*) has_out 'with their injected status injected again' ;;
	esac
	run 0 replay "$FILE" --json
	python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["result"]=="match" and d["divergences"]==0 and d["seamcalls"]>100, d' <"$OUT" \
		|| fail "JSON summary not as expected"
	;;
guest_shared_needed)
	# Without the shared EPT and pages in TDH.VP.ENTER's "mem", the guest
	# runs differently: the replay must notice.
	zcat "$TRACES/guest-shared.jsonl.gz" | sed '/"name":"TDH.VP.ENTER"/s/"mem":\[.*\]}$/"mem":[]}/' >"$TMP/ns.jsonl"
	grep -q '"name":"TDH.VP.ENTER".*"mem":\[\]}$' "$TMP/ns.jsonl" || fail "could not strip the shared memory"
	run 1 replay "$TMP/ns.jsonl"; has_out 'DIVERGENCE at seq [0-9]* .*TDH.VP.ENTER'
	# A td_exit whose guest RIP is not where the replayed guest stopped.
	zcat "$TRACES/guest-shared.jsonl.gz" | awk '!done && /"ev":"td_exit"/ { sub(/"rip":"0x[0-9a-f]*"/, "\"rip\":\"0x1234\""); done = 1 } { print }' >"$TMP/rip.jsonl"
	run 1 replay "$TMP/rip.jsonl"; has_out 'DIVERGENCE at seq [0-9]* .*TD exit of vCPU 0x'; has_out 'guest rip expected 0x1234, got 0x'
	;;
help)
	run 0 replay --help; has_out '^Usage: tdxsim replay TRACE'; has_out -- '--until'
	run 0 --help; has_out 'replay'
	run 2 replay; has_err 'missing TRACE'
	run 2 replay a b; has_err 'too many arguments'
	run 2 replay "$GOLD" --until x; has_err 'not an event number'
	run 2 replay "$GOLD" --bogus; has_err "unknown option '--bogus'"
	;;
tamper)
	# TDH.SYS.CONFIG is seq 12 in the golden trace (after the blobs it reads).
	seq=$(zcat "$GOLD" | grep -m1 '"name":"TDH.SYS.CONFIG"' | sed 's/.*"seq":\([0-9]*\),.*/\1/')
	[ -n "$seq" ] || fail "no TDH.SYS.CONFIG in $GOLD"
	tamper "$GOLD" "$TMP/t.jsonl" "$seq"
	line=$((seq + 2))
	run 1 replay "$TMP/t.jsonl"
	has_out "DIVERGENCE at seq $seq (.*t.jsonl:$line), LP 0, TDH.SYS.CONFIG"
	has_out 'status: expected TDX_OPERAND_INVALID.*(0xc000010000000000), got TDX_SUCCESS (0x0*)'
	has_out 'stopped at the first divergence'; has_out ' 1 divergence$'
	has_err 'diverged'
	run 1 replay "$TMP/t.jsonl" --json
	python3 -c 'import json,sys; d=json.load(sys.stdin); v=d["diverged"][0]; assert d["result"]=="diverged" and v["name"]=="TDH.SYS.CONFIG" and v["expected_status_name"]=="TDX_OPERAND_INVALID" and v["actual_status_name"]=="TDX_SUCCESS", d' <"$OUT" \
		|| fail "JSON divergence not as expected"
	;;
continue)
	# Three TDH.SYS.RD calls (read-only: the replay goes on identically).
	seqs=$(zcat "$GOLD" | grep '"name":"TDH.SYS.RD".*"status":"0x0"' | head -n 3 | sed 's/.*"seq":\([0-9]*\),.*/\1/')
	[ "$(echo $seqs | wc -w)" -eq 3 ] || fail "fewer than 3 TDH.SYS.RD in $GOLD"
	tamper "$GOLD" "$TMP/t.jsonl" $seqs
	run 1 replay "$TMP/t.jsonl" --continue
	count_out '^DIVERGENCE at seq' 3; has_out ' 3 divergences$'; has_out 'TDH.SYS.RD'
	run 1 replay "$TMP/t.jsonl"
	count_out '^DIVERGENCE at seq' 1
	# A register difference alone (status untouched) is a divergence too.
	zcat "$GOLD" | awk '!done && /"name":"TDH.SYS.RD"/ { sub(/"out":\{"rcx":"0x[0-9a-f]*","rdx":"0x[0-9a-f]*","r8":"0x[0-9a-f]*"/, "&X"); sub(/"r8":"0x[0-9a-f]*"X/, "\"r8\":\"0x1234567\""); done = 1 } { print }' >"$TMP/r.jsonl"
	run 1 replay "$TMP/r.jsonl"
	has_out 'status: TDX_SUCCESS (0x0*) as recorded'; has_out 'TDH.SYS.RD:$'; has_out 'r8 *expected 0x1234567, got'
	;;
until)
	seq=$(zcat "$GOLD" | grep -m1 '"name":"TDH.MEM.PAGE.AUG"' | sed 's/.*"seq":\([0-9]*\),.*/\1/')
	run 0 replay "$GOLD" --until "$seq"
	has_out "^State after seq $seq "; has_out '^Module: READY'; has_out '^TDs: 1'
	has_out 'TDR 0x[0-9a-f]*  HKID [0-9]*  lifecycle KEYS_CONFIGURED  op_state RUNNABLE  vCPUs 2/2'
	has_out 'vCPU 1  TDVPR 0x'; has_out '^PAMT (4 KiB pages by type): PT_NDA [0-9]* .*PT_TDR 1 PT_TDCX'
	run 0 replay "$GOLD" --until 0; has_out '^State after seq 0 '; has_out '^TDs: 0'
	run 0 replay "$GOLD" --until=5 --json
	python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["last_seq"]==5 and d["state"]["tds"]==[] and d["result"]=="match", d' <"$OUT" \
		|| fail "JSON --until not as expected"
	run 0 replay "$GOLD" --until 999999; has_out 'State at the end of the trace'; has_out '^TDs: 0'
	# From a pipe whose writer stays: --until must not wait for its EOF.
	mkfifo "$TMP/fifo" || fail "mkfifo"
	"$TDXSIM" replay --until 5 "$TMP/fifo" >"$OUT" 2>"$ERR" &
	pid=$!
	exec 3>"$TMP/fifo"
	# Up to the event --until names: the reader then waits in read() when
	# the replay stops.
	lines=$(zcat "$GOLD" | grep -n -m1 '^{"ev":"seamcall","seq":5,' | cut -d: -f1)
	zcat "$GOLD" 2>/dev/null | head -n "$lines" >&3
	n=0
	while kill -0 "$pid" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.2; n=$((n + 1)); done
	if kill -0 "$pid" 2>/dev/null; then kill "$pid"; exec 3>&-; fail "replay --until from a pipe waited for EOF"; fi
	wait "$pid" || { exec 3>&-; fail "replay --until from a pipe exited non-zero"; }
	exec 3>&-
	has_out '^State after seq 5 '
	;;
malformed)
	# Each bad file: exit 2 and "FILE:LINE: ..." naming what was expected.
	zcat "$GOLD" >"$TMP/g.jsonl"
	run 2 replay "$TMP/none.jsonl"; has_err 'none.jsonl: cannot open'
	: >"$TMP/empty.jsonl"; run 2 replay "$TMP/empty.jsonl"; has_err 'empty.jsonl:1: empty file'
	sed '1s/"version":1/"version":2/' "$TMP/g.jsonl" >"$TMP/v2.jsonl"
	run 2 replay "$TMP/v2.jsonl"; has_err 'v2.jsonl:1: trace format version 2 is not supported'
	sed '1s/"format":"tdxsim-trace"/"format":"other"/' "$TMP/g.jsonl" >"$TMP/f.jsonl"
	run 2 replay "$TMP/f.jsonl"; has_err 'f.jsonl:1: not a tdxsim trace'
	sed '1s/"platform":"spr"/"platform":"zzz"/g' "$TMP/g.jsonl" >"$TMP/p.jsonl"
	run 2 replay "$TMP/p.jsonl"; has_err 'p.jsonl:1: header: unknown platform "zzz"'
	sed '1s/,"seed":"0x[0-9a-f]*"//' "$TMP/g.jsonl" >"$TMP/s.jsonl"
	run 2 replay "$TMP/s.jsonl"; has_err 's.jsonl:1: expected "config.seed": a 64-bit hex string'
	# Truncated in the middle of line 30 (no newline at the end).
	head -n 29 "$TMP/g.jsonl" >"$TMP/tr.jsonl"; sed -n 30p "$TMP/g.jsonl" | head -c 100 >>"$TMP/tr.jsonl"
	run 2 replay "$TMP/tr.jsonl"; has_err 'tr.jsonl:30: event: .*truncated'
	# A truncated gzip stream.
	n=$(wc -c <"$GOLD"); head -c $((n / 2)) "$GOLD" >"$TMP/tr.jsonl.gz"
	run 2 replay "$TMP/tr.jsonl.gz"; has_err 'tr.jsonl.gz:[0-9]*: '
	# Malformed JSON in line 40.
	sed '40s/"seq"/"seq"::/' "$TMP/g.jsonl" >"$TMP/m.jsonl"
	run 2 replay "$TMP/m.jsonl"; has_err 'm.jsonl:40: event: malformed JSON at column [0-9]*: expected a value'
	# Unknown leaf name.
	sed '0,/"name":"TDH.SYS.RD"/s/"name":"TDH.SYS.RD"/"name":"TDH.NO.SUCH"/' "$TMP/g.jsonl" >"$TMP/u.jsonl"
	run 2 replay "$TMP/u.jsonl"; has_err 'u.jsonl:[0-9]*: seamcall seq [0-9]*: unknown leaf "TDH.NO.SUCH"'
	# A seamcall whose blob line was removed.
	bl=$(grep -n -m1 '"ev":"blob"' "$TMP/g.jsonl" | cut -d: -f1)
	sed "${bl}d" "$TMP/g.jsonl" | awk 'BEGIN{n=-1} {if (n>=0) sub(/"seq":[0-9]*/, "\"seq\":" n); print; n++}' >"$TMP/b.jsonl"
	ml=$(grep -n -m1 '"mem":\[{' "$TMP/b.jsonl" | cut -d: -f1)
	run 2 replay "$TMP/b.jsonl"; has_err "b.jsonl:$ml: mem\[0\]: no blob line with sha256 [0-9a-f]\{64\} before this event"
	# A register missing from "out"; a seq out of order; a blank line.
	sed '20s/,"rsi":"0x[0-9a-f]*"}/}/2' "$TMP/g.jsonl" >"$TMP/r.jsonl"
	run 2 replay "$TMP/r.jsonl"; has_err 'r.jsonl:20: "out" lacks a register: expected register "rsi"'
	sed '25s/"seq":23/"seq":99/' "$TMP/g.jsonl" >"$TMP/q.jsonl"
	run 2 replay "$TMP/q.jsonl"; has_err 'q.jsonl:25: expected "seq":23 (events count from 0 in file order), not 99'
	sed '10s/^.*$//' "$TMP/g.jsonl" >"$TMP/e.jsonl"
	run 2 replay "$TMP/e.jsonl"; has_err 'e.jsonl:10: empty line'
	# Binary garbage.
	head -c 3000 /dev/urandom >"$TMP/rnd.bin"; run 2 replay "$TMP/rnd.bin"; has_err 'rnd.bin:'
	;;
roundtrip)
	# Record a fresh trace now (TDXSIM_TRACE on tdxsim-bringup), replay it,
	# plain and gzip; then a trace of `tdxsim info` (bring-up + TDH.SYS.RD).
	TDXSIM_TRACE="$TMP/fresh.jsonl" "$BRINGUP" emr >/dev/null 2>&1 || fail "tdxsim-bringup failed"
	run 0 replay "$TMP/fresh.jsonl"; has_out 'every status and register matched'
	TDXSIM_TRACE="$TMP/fresh.jsonl.gz" "$BRINGUP" >/dev/null 2>&1 || fail "tdxsim-bringup failed"
	run 0 replay "$TMP/fresh.jsonl.gz"; has_out 'every status and register matched'
	TDXSIM_TRACE="$TMP/info.jsonl.gz" "$TDXSIM" info --platform gnr >/dev/null 2>&1 || fail "tdxsim info failed"
	run 0 replay "$TMP/info.jsonl.gz"; has_out 'every status and register matched'
	;;
*)
	echo "unknown case $CASE" >&2; exit 2
	;;
esac
exit 0
