#!/bin/bash
# Replay each fuzz target's known crashers, then run it for FUZZ_SECONDS
# from its seed corpus; any crash, leak or sanitizer report fails it. One TAP-like line per target.
set -u
dir=${FUZZ_DIR:-build/fuzz}
secs=${FUZZ_SECONDS:-30}
pass=0 failn=0
mkdir -p "$dir/crash" "$dir/log"
for t in "$@"; do
	seeds=tests/fuzz/corpus/$t
	work=$dir/corpus/$t
	mkdir -p "$work"
	log=$dir/log/$t.log
	# Known crashers of this target (tests/fuzz/known/NAME-*) run once
	# each first: a fixed bug that comes back fails here.
	known=$(ls tests/fuzz/known/"$t"-* 2>/dev/null)
	if [ -n "$known" ] && ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$dir/fuzz_$t" -rss_limit_mb=2048 -timeout=25 $known >"$log" 2>&1; then
		echo "not ok - fuzz $t: a known crasher crashes again (see $log)"
		grep -m3 -E 'ERROR|SUMMARY|violated|abort|Running' "$log" | sed 's/^/#   /'
		failn=$((failn + 1))
		continue
	fi
	# -rss_limit_mb bounds memory; -max_len lets seeds up to 64 KiB grow.
	if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$dir/fuzz_$t" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 -timeout=25 \
		-artifact_prefix="$dir/crash/$t-" -print_final_stats=1 "$work" "$seeds" >"$log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
		cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
		echo "ok - fuzz $t (${execs:-?} execs, cov ${cov:-?})"
		pass=$((pass + 1))
	else
		echo "not ok - fuzz $t (see $log)"
		grep -m3 -E 'ERROR|SUMMARY|violated|abort' "$log" | sed 's/^/#   /'
		failn=$((failn + 1))
	fi
done
echo "$pass passed, $failn failed"
[ "$failn" -eq 0 ]
