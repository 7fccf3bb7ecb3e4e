#!/usr/bin/env bash
# The release binary (make static) is one fully static x86_64 executable: it
# runs in an empty root directory that holds nothing but itself.
# Run from the repository root. TAP-ish: one "ok - " / "not ok - " line per
# check; exits non-zero if any check fails.
#
#   BOSUN_STATIC_BIN       binary to check (default dist/bosun-linux-amd64)
#   BOSUN_STATIC_REQUIRED  1: a missing binary is a failure, not a skip
#                          (make static-smoke sets it; make test does not
#                          build the static binary, so there it is a skip)
set -u
BIN=${BOSUN_STATIC_BIN:-dist/bosun-linux-amd64}
FAILED=0

ok() { printf 'ok - %s\n' "$1"; }
not_ok() {
	FAILED=$((FAILED + 1))
	printf 'not ok - %s\n' "$1"
	shift
	local d
	for d in "$@"; do printf '%s\n' "$d" | sed 's/^/#   /'; done
}
skip() { printf 'ok - %s # SKIP %s\n' "$1" "$2"; }

if [ ! -f "$BIN" ]; then
	if [ "${BOSUN_STATIC_REQUIRED:-0}" = 1 ]; then
		not_ok "static binary exists" "$BIN not found; run make static"
		exit 1
	fi
	skip "static binary exists" "$BIN not built (make static)"
	exit 0
fi
ok "static binary $BIN exists"

# 1. file(1) sees a static x86-64 executable, not a dynamic or static-pie one.
desc=$(file -b "$BIN" 2>&1)
case "$desc" in
*"statically linked"*) ok "file: statically linked" ;;
*) not_ok "file: statically linked" "file says: $desc" ;;
esac
case "$desc" in
*"ELF 64-bit"*x86-64*) ok "file: ELF 64-bit x86-64" ;;
*) not_ok "file: ELF 64-bit x86-64" "file says: $desc" ;;
esac

# 2. It runs in an empty chroot: no loader, no libc, no /etc, no /dev.
root=$(mktemp -d "${TMPDIR:-/tmp}/bosun-static-root.XXXXXX")
trap 'rm -rf "$root" "$root.stderr"' EXIT
cp "$BIN" "$root/bosun-linux-amd64"
chmod 755 "$root/bosun-linux-amd64"
if [ "$(id -u)" = 0 ]; then
	run=(chroot "$root" /bosun-linux-amd64 version)
elif unshare -r true 2>/dev/null; then
	run=(unshare -r chroot "$root" /bosun-linux-amd64 version) # user namespace
else
	skip "runs in an empty chroot" "needs root or unprivileged user namespaces"
	[ "$FAILED" -eq 0 ]
	exit
fi
err=$root.stderr
out=$("${run[@]}" 2>"$err")
rc=$?
if [ "$rc" -eq 0 ]; then
	ok "chroot (empty dir) /bosun-linux-amd64 version exits 0"
else
	not_ok "chroot (empty dir) /bosun-linux-amd64 version exits 0" "exit $rc" "$(cat "$err")"
fi
# stdout only: a loader error on stderr names the file, bosun-linux-amd64.
if [ "$rc" -eq 0 ] && printf '%s\n' "$out" | grep -qw bosun; then
	ok "version output names bosun"
else
	not_ok "version output names bosun" "stdout: $out"
fi
[ "$FAILED" -eq 0 ]
