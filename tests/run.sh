#!/usr/bin/env bash
# Runs the unit programs given as arguments, then every end-to-end script in
# tests/e2e (or those named in $E2E; E2E=none for none), and prints one closing line
# "N passed, N failed". A program or script that exits non-zero without
# reporting a failing case counts as one failure.
set -u
cd "$(dirname "$0")/.."
export BOSUN="${BOSUN:-$PWD/bosun}"
# The shared test data: CI lays shared/ beside the checkout.
if [ -z "${SHARED:-}" ]; then
	if [ -d ../shared ]; then SHARED="$(cd ../shared && pwd)"; else SHARED=/work/shared; fi
fi
export SHARED
pass=0 failn=0 failed_names=()
logdir=$(mktemp -d "${TMPDIR:-/tmp}/bosun-test-logs.XXXXXX")

run_one() {
	local name=$1; shift
	local log="$logdir/$(basename "$name").log" rc p f
	"$@" >"$log" 2>&1
	rc=$?
	p=$(grep -c '^ok - ' "$log")
	f=$(grep -c '^not ok - ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $name exited $rc" >>"$log"; fi
	# A test that escapes its scratch area shows up here first: the host's
	# /dev/null must still be the character device after every program.
	if [ ! -c /dev/null ]; then
		f=$((f + 1)); echo "not ok - $name replaced the host's /dev/null" >>"$log"
		rm -f /dev/null && mknod -m 666 /dev/null c 1 3
	fi
	pass=$((pass + p)); failn=$((failn + f))
	if [ "$f" -gt 0 ]; then
		failed_names+=("$name")
		printf 'FAIL %-40s %3d passed, %d failed\n' "$name" "$p" "$f"
		grep -E '^not ok - ' "$log" | sed 's/^/     /'
		echo "     --- last lines of $log"
		tail -n 25 "$log" | sed 's/^/     | /'
	else
		printf 'pass %-40s %3d passed\n' "$name" "$p"
	fi
}

for u in "$@"; do run_one "unit/$(basename "$u")" "$u"; done
scripts=${E2E:-$(ls tests/e2e/*.sh 2>/dev/null)}
[ "$scripts" = none ] && scripts="" # E2E=none: the unit programs only (make unit)
for s in $scripts; do run_one "e2e/$(basename "$s")" bash "$s"; done

[ "$failn" -eq 0 ] && rm -rf "$logdir" || echo "logs kept in $logdir"
echo "$pass passed, $failn failed"
[ "$failn" -eq 0 ]
