#!/bin/bash
# Replay each fuzz target's known crashers, then run it for FUZZ_SECONDS
# from its seed corpus; any crash, leak or sanitizer report fails it. One
# TAP-like line per target. FUZZ_JOBS targets (default: the number of
# cores) run at once; each is one single-threaded libFuzzer process.
set -u
dir=${FUZZ_DIR:-build/fuzz}
secs=${FUZZ_SECONDS:-30}
jobs=${FUZZ_JOBS:-$(nproc)}
pass=0 failn=0
mkdir -p "$dir/crash" "$dir/log" "$dir/result"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# run_target NAME: its result line(s) into $dir/result/NAME
run_target() {
	local t=$1 seeds=tests/fuzz/corpus/$1 work=$dir/corpus/$1 log=$dir/log/$1.log out=$dir/result/$1 known
	mkdir -p "$work"
	# Known crashers of this target (tests/fuzz/known/NAME-*) run once
	# each first: a fixed bug that comes back fails here.
	known=$(ls tests/fuzz/known/"$t"-* 2>/dev/null)
	if [ -n "$known" ] && ! "$dir/fuzz_$t" -rss_limit_mb=2048 -timeout=25 $known >"$log" 2>&1; then
		{ echo "not ok - fuzz $t: a known crasher crashes again (see $log)"
		  grep -m3 -E 'ERROR|SUMMARY|violated|abort|Running' "$log" | sed 's/^/#   /'; } >"$out"
		return
	fi
	# -rss_limit_mb bounds memory; -max_len lets seeds up to 64 KiB grow.
	if "$dir/fuzz_$t" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 -timeout=25 \
		-artifact_prefix="$dir/crash/$t-" -print_final_stats=1 "$work" "$seeds" >"$log" 2>&1; then
		local execs cov
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
		cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
		echo "ok - fuzz $t (${execs:-?} execs, cov ${cov:-?})" >"$out"
	else
		{ echo "not ok - fuzz $t (see $log)"
		  grep -m3 -E 'ERROR|SUMMARY|violated|abort' "$log" | sed 's/^/#   /'; } >"$out"
	fi
}

for t in "$@"; do
	rm -f "$dir/result/$t"
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
	run_target "$t" &
done
wait
for t in "$@"; do
	if [ -f "$dir/result/$t" ]; then cat "$dir/result/$t"; else echo "not ok - fuzz $t: no result"; fi
	if grep -q '^ok - ' "$dir/result/$t" 2>/dev/null; then pass=$((pass + 1)); else failn=$((failn + 1)); fi
done
echo "$pass passed, $failn failed"
[ "$failn" -eq 0 ]
