#!/usr/bin/env bash
# make test-realworld: the real-world image scripts (tests/realworld/NN_*.sh,
# or those named in $RW) through tests/run.sh, then one table of the
# inventories: per image and ecosystem, Trivy's count, bosun's, dpkg-query's
# (deb), missing from bosun, extra in bosun.
set -u
cd "$(dirname "$0")/../.." || exit 2
BOSUN_RW_SUMMARY=$(mktemp "${TMPDIR:-/tmp}/bosun-rw-summary.XXXXXX")
export BOSUN_RW_SUMMARY
trap 'rm -f "$BOSUN_RW_SUMMARY"' EXIT
t0=$(date +%s)
E2E="${RW:-$(ls tests/realworld/[0-9]*.sh)}" tests/run.sh
rc=$?
echo
printf '%-8s %-8s %6s %6s %6s %8s %6s\n' image type trivy bosun dpkg missing extra
sort -s -k1,1 "$BOSUN_RW_SUMMARY" | while IFS=$'\t' read -r i t a b d m x; do
    printf '%-8s %-8s %6s %6s %6s %8s %6s\n' "$i" "$t" "$a" "$b" "$d" "$m" "$x"
done
echo "real-world suite: $(($(date +%s) - t0)) s on $(nproc) cores"
exit "$rc"
