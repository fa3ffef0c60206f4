#!/bin/sh
# Tests of the tdxsim command-line tool (label trace): check-cli.sh TDXSIM GUEST_DIR CASE
# Each CASE runs the built binary and checks its exit status and output;
# any mismatch prints what was expected and exits 1.
set -u
TDXSIM=$1
GUEST_DIR=$2
CASE=$3
OUT=$(mktemp) ERR=$(mktemp)
trap 'rm -f "$OUT" "$ERR"' EXIT

fail() {
	echo "FAIL ($CASE): $*" >&2
	echo "--- stdout:" >&2; cat "$OUT" >&2
	echo "--- stderr:" >&2; cat "$ERR" >&2
	exit 1
}
# run WANT_STATUS ARGS...: run tdxsim, check the exit status.
run() {
	want=$1; shift
	"$TDXSIM" "$@" >"$OUT" 2>"$ERR"
	got=$?
	[ "$got" -eq "$want" ] || fail "tdxsim $* exited $got, expected $want"
}
has_out() { grep -q -- "$1" "$OUT" || fail "stdout lacks '$1'"; }
has_err() { grep -q -- "$1" "$ERR" || fail "stderr lacks '$1'"; }
json_ok() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["module"]["state"] == "READY"; assert isinstance(d["module"]["metadata"]["MAX_TDMRS"], int)' <"$OUT" \
			|| fail "stdout is not the expected JSON"
	else
		head -c 1 "$OUT" | grep -q '{' || fail "stdout does not start with {"
		tail -n 1 "$OUT" | grep -q '^}$' || fail "stdout does not end with }"
		has_out '"MAX_TDMRS": [0-9]'
	fi
}

# trace_setup: record a trace of guest_demo (TDXSIM_TRACE) into $D/t.jsonl(.gz)
# for the trace subcommand cases; NCALLS SEAMCALLs on NLPS LPs.
trace_setup() {
	# Trace subcommands: record a trace of guest_demo (TDXSIM_TRACE) first.
	D=$(mktemp -d)
	trap 'rm -f "$OUT" "$ERR"; rm -rf "$D"' EXIT
	TDXSIM_TRACE="$D/t.jsonl" "$TDXSIM" run "$GUEST_DIR/guest_demo.bin" >"$OUT" 2>"$ERR" \
		|| fail "recording a trace of guest_demo failed"
	head -n 1 "$D/t.jsonl" | grep -q '"format":"tdxsim-trace"' || fail "no trace recorded"
	NCALLS=$(grep -c '"ev":"seamcall"' "$D/t.jsonl")
	NLPS=$(grep '"ev":"seamcall"' "$D/t.jsonl" | sed 's/.*"lp":\([0-9]*\).*/\1/' | sort -u | wc -l)
	[ "$NCALLS" -gt 10 ] || fail "only $NCALLS SEAMCALLs recorded"
	gzip -c "$D/t.jsonl" >"$D/t.jsonl.gz"
}

case $CASE in
help)
	run 0 --help; has_out '^Usage: tdxsim'; has_out 'info'; has_out 'run'
	run 0 help; has_out '^Usage: tdxsim'
	run 0 --version; has_out '^tdxsim [0-9]'
	run 2; has_err '^Usage: tdxsim'
	;;
help_info)
	run 0 info --help; has_out '^Usage: tdxsim info'; has_out -- '--json'
	run 0 help info; has_out '^Usage: tdxsim info'
	run 0 --help info; has_out '^Usage: tdxsim info'
	;;
help_run)
	run 0 run --help; has_out '^Usage: tdxsim run IMAGE'; has_out -- '--max-exits'
	run 0 help run; has_out '^Usage: tdxsim run IMAGE'
	run 0 run some.bin -h; has_out '^Usage: tdxsim run IMAGE'
	;;
info)
	run 0 info; has_out '^Platform spr'; has_out 'MAX_TDMRS  *[0-9]'; has_out 'state READY'
	has_out 'KeyIDs'; has_out 'TDX_FEATURES0  *0x'
	run 0 info --platform emr; has_out '^Platform emr'
	;;
info_json)
	run 0 info --json; json_ok
	run 0 info --platform=gnr --json; json_ok; has_out '"name": "gnr"'
	;;
run_demo)
	run 0 run "$GUEST_DIR/guest_demo.bin" --arg 0x5eed
	has_out '^guest console | Hello from a TD'
	has_out '^vCPU 0: SYNC(1) args .* at guest_demo.c:'
	has_out '^vCPU 0: DONE at guest_demo.c:'
	has_out 'TD torn down'
	;;
run_counter)
	run 0 run "$GUEST_DIR/guest_counter.bin" --vcpus 2 --arg 100
	for i in 0 1; do has_out "^vCPU $i: DONE"; done
	has_out 'SYNC(2) args 0xc8 0x2 '
	;;
run_fail)
	# A guest that halts before DONE, and one that takes an exception: exit 1.
	run 1 run "$GUEST_DIR/guest_hlt.bin"; has_out 'halted before DONE'; has_err 'the guest failed'
	run 1 run "$GUEST_DIR/guest_poison.bin"; has_out 'UNHANDLED exception'
	;;
run_missing)
	run 2 run "$GUEST_DIR/no-such-image.bin"; has_err "^tdxsim: run: .*no-such-image.bin"
	run 2 run "$GUEST_DIR"; has_err 'not a regular file'
	run 2 run; has_err 'missing IMAGE'; has_err "Try 'tdxsim help run'"
	;;
bad_usage)
	run 2 frobnicate; has_err "^tdxsim: unknown subcommand 'frobnicate'"; has_err "Try 'tdxsim --help'"
	run 2 --frob; has_err "^tdxsim: unknown option '--frob'"
	run 2 info --frob; has_err "^tdxsim: info: unknown option '--frob'"
	run 2 info --platform xyz; has_err "unknown platform 'xyz'"
	run 2 info --platform; has_err "needs a value"
	run 2 run "$GUEST_DIR/guest_demo.bin" --vcpus 0; has_err -- '--vcpus wants'
	run 2 run "$GUEST_DIR/guest_demo.bin" --vcpus 9; has_err 'has 8 LPs'
	run 2 run "$GUEST_DIR/guest_demo.bin" --arg -1; has_err -- '--arg wants'
	run 2 run a.bin b.bin; has_err 'one IMAGE only'
	run 2 help frobnicate; has_err "unknown subcommand 'frobnicate'"
	;;
stats)
	trace_setup
	run 0 stats --help; has_out '^Usage: tdxsim stats TRACE'; has_out -- '--json'
	run 0 stats "$D/t.jsonl"
	has_out '^Trace .*t.jsonl: format 1.2, tdxsim [0-9]'; has_out "$NCALLS SEAMCALLs on $NLPS LPs"
	has_out '^LEAF  *CALLS  *CYCLES  *P50  *P90  *P99  *MAX'
	has_out '^TDH.SYS.INIT  *1  *[0-9]'; has_out '^TDH.VP.ENTER  *[0-9]'
	has_out "^all  *$NCALLS  *[0-9]"; has_out '^TDX_SUCCESS  *[0-9]* *[0-9.]*%'
	NEXITS=$(grep -c '"ev":"td_exit"' "$D/t.jsonl"); NTDCALLS=$(grep -c '"ev":"tdcall"' "$D/t.jsonl")
	has_out "$NEXITS TD exits, $NTDCALLS TDCALLs"; has_out '^EXIT REASON  *CALLS'; has_out '^TDCALL  *[0-9]'
	has_out '^TDG.MR.REPORT  *1 '
	cp "$OUT" "$D/plain.txt"
	run 0 stats "$D/t.jsonl.gz"        # gzip read transparently: same numbers
	sed 1d "$D/plain.txt" >"$D/a"; sed 1d "$OUT" >"$D/b"
	cmp -s "$D/a" "$D/b" || fail "stats of the .gz trace differs from the plain one"
	;;
stats_json)
	trace_setup
	run 0 stats "$D/t.jsonl" --json
	python3 - "$OUT" "$D/t.jsonl" <<'PY' || fail "stats --json does not match the trace"
import json, sys
d = json.load(open(sys.argv[1]))
calls = [json.loads(l) for l in open(sys.argv[2]) if '"ev":"seamcall"' in l]
assert d["format_version"] == 1 and d["platform"] == "spr", d
assert d["seamcalls"] == len(calls), (d["seamcalls"], len(calls))
assert sum(l["count"] for l in d["leaves"]) == len(calls)
assert sum(d["statuses"].values()) == len(calls)
assert d["lps"] == sorted({c["lp"] for c in calls})
cyc = sorted(c["cycles"] for c in calls)
nr = lambda p: cyc[max(1, -(-len(cyc) * p // 100)) - 1]   # nearest rank
assert d["cycles"] == {"total": sum(cyc), "p50": nr(50), "p90": nr(90), "p99": nr(99), "max": cyc[-1]}, d["cycles"]
by = {}
for c in calls:
    by.setdefault(c["name"], []).append(c)
for l in d["leaves"]:
    cs = by[l["name"]]
    assert l["count"] == len(cs) and l["cycles"]["max"] == max(c["cycles"] for c in cs), l
    st = {}
    for c in cs:
        st[c["status_name"]] = st.get(c["status_name"], 0) + 1
    assert l["statuses"] == st, l
ev = [json.loads(l) for l in open(sys.argv[2])][1:]
exits = [e for e in ev if e["ev"] == "td_exit"]
tdc = [e for e in ev if e["ev"] == "tdcall"]
assert d["td_exits"] == len(exits) > 0 and d["tdcalls"] == len(tdc) > 0, (d["td_exits"], d["tdcalls"])
assert sum(r["count"] for r in d["exit_reasons"]) == len(exits)
assert d["guest_cycles"]["total"] == sum(e["cycles"] for e in exits)
byr = {}
for e in exits:
    byr[e["exit_reason"]] = byr.get(e["exit_reason"], 0) + 1
assert {r["exit_reason"]: r["count"] for r in d["exit_reasons"]} == byr, d["exit_reasons"]
assert {r["name"]: r["count"] for r in d["tdcall_leaves"]} == {n: sum(1 for e in tdc if e["name"] == n) for n in {e["name"] for e in tdc}}
PY
	;;
timeline)
	trace_setup
	run 0 timeline --help; has_out '^Usage: tdxsim timeline TRACE -o OUT.json'
	run 0 timeline "$D/t.jsonl.gz" -o "$D/tl.json"
	[ ! -s "$OUT" ] || fail "timeline printed on stdout"
	NEXITS=$(grep -c '"ev":"td_exit"' "$D/t.jsonl")
	NTDCALLS=$(grep -c '"ev":"tdcall"' "$D/t.jsonl")
	python3 - "$D/tl.json" "$NCALLS" "$NLPS" "$NEXITS" "$NTDCALLS" <<'PY' || fail "timeline output is not the expected trace-event JSON"
import json, sys
d = json.load(open(sys.argv[1]))
ev = d["traceEvents"]
x = [e for e in ev if e["ph"] == "X"]
calls = [e for e in x if e["cat"] == "seamcall"]
guest = [e for e in x if e["cat"] == "td"]
tdcalls = [e for e in x if e["cat"] == "tdcall"]
names = [e for e in ev if e["ph"] == "M" and e["name"] == "thread_name"]
assert len(calls) == int(sys.argv[2]), (len(calls), sys.argv[2])
assert len(guest) == int(sys.argv[4]) > 0, (len(guest), sys.argv[4])
assert len(tdcalls) == int(sys.argv[5]) > 0, (len(tdcalls), sys.argv[5])
assert len(names) == int(sys.argv[3]) == len({e["tid"] for e in names}), names
assert {e["tid"] for e in x} == {e["tid"] for e in names}
assert all(e["pid"] == 1 and e["dur"] > 0 and e["ts"] >= 0 and e["args"]["status"] for e in calls)
assert any(e["name"] == "TDH.SYS.INIT" for e in calls)
# Guest runs nest in a TDH.VP.ENTER slice of their LP; TDCALLs in a guest run.
def inside(a, b):
    return a["tid"] == b["tid"] and b["ts"] <= a["ts"] and a["ts"] + a["dur"] <= b["ts"] + b["dur"] + 0.002
enters = [e for e in calls if e["name"] == "TDH.VP.ENTER"]
for g in guest:
    assert g["name"] == "TD guest" and g["args"]["exit"] and g["args"]["rip"].startswith("0x"), g
    assert any(inside(g, e) for e in enters), g
for t in tdcalls:
    assert t["name"].startswith("TDG."), t
    assert any(inside(t, g) for g in guest), t
PY
	ls "$D" | grep -q 'tmp' && fail "temporary file left next to the output"
	;;
trace_bad)
	trace_setup
	# Bad traces: exit 2, "FILE:LINE: ..." on stderr, no timeline output.
	head -c 2000 "$D/t.jsonl" >"$D/trunc.jsonl"
	sed '1s/"version":1/"version":7/' "$D/t.jsonl" >"$D/ver.jsonl"
	sed '2s/"leaf":[0-9]*/"leaf":999/; 2s/"rax":"[^"]*"/"rax":"0x3e7"/' "$D/t.jsonl" >"$D/leaf.jsonl"
	sed '3s/}$/,/' "$D/t.jsonl" >"$D/malformed.jsonl"
	sed '4s/"seq":[0-9]*/"seq":77/' "$D/t.jsonl" >"$D/seq.jsonl"
	head -c 2000 "$D/t.jsonl" | gzip -c >"$D/trunc.jsonl.gz"
	for cmd in stats timeline; do
		O=; [ $cmd = timeline ] && O="-o $D/o.json"
		run 2 $cmd "$D/trunc.jsonl" $O; has_err "trunc.jsonl:[0-9][0-9]*: event: the line ends early"
		run 2 $cmd "$D/trunc.jsonl.gz" $O; has_err "trunc.jsonl.gz:[0-9][0-9]*: event: the line ends early"
		run 2 $cmd "$D/ver.jsonl" $O; has_err "ver.jsonl:1: trace format version 7 is not supported: expected version 1"
		run 2 $cmd "$D/leaf.jsonl" $O; has_err "leaf.jsonl:2: seamcall seq 0: unknown leaf .*not a leaf this tdxsim knows"
		run 2 $cmd "$D/malformed.jsonl" $O; has_err "malformed.jsonl:3: .*expected"
		run 2 $cmd "$D/seq.jsonl" $O; has_err 'seq.jsonl:4: expected "seq":2'
		run 2 $cmd "$D/nonexistent.jsonl" $O; has_err "nonexistent.jsonl: cannot open: No such file"
		[ ! -e "$D/o.json" ] || fail "$cmd left $D/o.json behind"
		ls "$D" | grep -q 'o.json' && fail "$cmd left a temporary output file"
	done
	run 2 stats /dev/null; has_err "/dev/null:1: empty file: expected the trace header"
	run 2 stats; has_err 'missing TRACE'
	run 2 stats "$D/t.jsonl" --frob; has_err "unknown option '--frob'"
	run 2 timeline "$D/t.jsonl"; has_err 'missing -o OUT.json'
	run 1 timeline "$D/t.jsonl" -o "$D/no/such/dir/x.json"; has_err 'cannot create'
	# An existing OUT is kept intact when the trace is bad.
	echo keep >"$D/keep.json"
	run 2 timeline "$D/trunc.jsonl" -o "$D/keep.json"; grep -qx keep "$D/keep.json" || fail "OUT overwritten"
	;;
*)
	echo "check-cli.sh: unknown case '$CASE'" >&2
	exit 2
	;;
esac
exit 0
