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
*)
	echo "check-cli.sh: unknown case '$CASE'" >&2
	exit 2
	;;
esac
exit 0
