# shellcheck shell=bash
# tests/lib/common.sh — sourced by the end-to-end test scripts.
#
# Provides TAP-ish reporting, cleanup handling, scratch directories and
# loopback port helpers.  Everything here must work under `set -e`,
# `set -u` and `set -o pipefail`, because test scripts may use them.

if [ -n "${_BOSUN_COMMON_SH:-}" ]; then return 0; fi
_BOSUN_COMMON_SH=1

TESTLIB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$TESTLIB/../.." && pwd)"
BOSUN="${BOSUN:-$REPO/bosun}"
case "$BOSUN" in /*) ;; *) BOSUN="$(pwd)/$BOSUN" ;; esac
if [ -z "${SHARED:-}" ]; then
    # CI lays shared/ beside the checkout; a developer's worktree may sit elsewhere.
    if [ -d "$REPO/../shared" ]; then SHARED="$(cd "$REPO/../shared" && pwd)"; else SHARED=/work/shared; fi
fi
# Debian's interpreter: the servers use the standard library only, and the
# pyenv python3 on PATH is not guaranteed to be there (or the same) in CI.
PYTHON="${PYTHON:-/usr/bin/python3}"
export TESTLIB REPO BOSUN SHARED PYTHON

# ---------------------------------------------------------------- reporting

PASS=0
FAIL=0
OUT=""
RC=0

diag() { printf '# %s\n' "$*"; }

ok() {
    PASS=$((PASS + 1))
    printf 'ok - %s\n' "$1"
}

# fail NAME [DETAIL...]: each detail argument may span lines; all of it is
# printed as TAP diagnostics so a runner never mistakes it for a result.
fail() {
    FAIL=$((FAIL + 1))
    printf 'not ok - %s\n' "$1"
    shift
    local d
    for d in "$@"; do
        printf '%s\n' "$d" | sed 's/^/#   /'
    done
}

skip() {
    PASS=$((PASS + 1))
    printf 'ok - %s # SKIP %s\n' "$1" "${2:-}"
}

# _cmdline CMD...: the command for a failure report, cut short so a long
# argument (a token, a JSON body) does not bury the diagnosis.
_cmdline() {
    local s="$*"
    if [ "${#s}" -gt 300 ]; then s="${s:0:300}..."; fi
    printf '%s' "$s"
}

# check NAME CMD...: pass when CMD succeeds; its output is shown only on
# failure, so passing runs stay quiet.
check() {
    local name="$1"; shift
    OUT="$("$@" 2>&1)" && RC=0 || RC=$?
    if [ "$RC" -eq 0 ]; then
        ok "$name"
    else
        fail "$name" "command: $(_cmdline "$@")" "exit $RC" "$(printf '%s\n' "$OUT" | tail -n 20)"
    fi
    return 0
}

# expect_exit CODE NAME CMD...: stdout+stderr land in $OUT and the status
# in $RC so the caller can make further assertions on them.
expect_exit() {
    local want="$1" name="$2"; shift 2
    OUT="$("$@" 2>&1)" && RC=0 || RC=$?
    if [ "$RC" -eq "$want" ]; then
        ok "$name"
    else
        fail "$name" "command: $(_cmdline "$@")" "expected exit $want, got $RC" \
            "$(printf '%s\n' "$OUT" | tail -n 20)"
    fi
    return 0
}

# expect_out NAME ERE / expect_no_out NAME ERE: assert on the $OUT of the
# last check or expect_exit (e.g. an error message, or that a secret is
# absent).  $OUT is left as it was for further assertions.
# Here-strings, not pipes: under pipefail, grep -q exiting at the first
# match would kill printf with SIGPIPE on a large output and turn a match
# into a miss.
expect_out() {
    if grep -qE -- "$2" <<<"$OUT"; then
        ok "$1"
    else
        fail "$1" "output does not match /$2/:" "$(printf '%s\n' "$OUT" | tail -n 20)"
    fi
}
expect_no_out() {
    if grep -qE -- "$2" <<<"$OUT"; then
        fail "$1" "output matches /$2/:" "$(printf '%s\n' "$OUT" | grep -E -- "$2" | head -n 5)"
    else
        ok "$1"
    fi
}

finish() {
    printf '# %d passed, %d failed\n' "$PASS" "$FAIL"
    if [ "$FAIL" -ne 0 ]; then exit 1; fi
    exit 0
}

# ------------------------------------------------------------------ cleanup

# Cleanups run in reverse registration order so that, e.g., a proxy is
# stopped before the registry behind it and temp dirs are removed last.
_AT_EXIT=()

at_exit() { _AT_EXIT+=("$*"); }

_run_at_exit() {
    local rc=$? i
    set +e
    for ((i = ${#_AT_EXIT[@]} - 1; i >= 0; i--)); do
        eval "${_AT_EXIT[$i]}" >/dev/null 2>&1
    done
    _AT_EXIT=()
    exit "$rc"
}
trap _run_at_exit EXIT
# Turn signals into a normal exit so the EXIT trap does the cleanup.
trap 'exit 130' INT
trap 'exit 143' TERM

# kill_wait PID: stop a background process we started and reap it.
kill_wait() {
    local pid="$1"
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || return 0
    local i
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

# ------------------------------------------------------------ scratch dirs

# One session root per test script, created here in the main shell, so
# that tmpdir_new also works inside $(...) where an at_exit registration
# would be lost with the subshell.  BOSUN_TEST_KEEP=1 keeps it for debugging.
_BT_BASE="${BOSUN_TEST_TMP:-${TMPDIR:-/tmp}}"
mkdir -p "$_BT_BASE"
BT_ROOT="$(mktemp -d "$_BT_BASE/bosun-test.XXXXXX")"
export BT_ROOT
if [ -n "${BOSUN_TEST_KEEP:-}" ]; then
    at_exit "echo '# kept $BT_ROOT' >&2"
else
    at_exit "rm -rf '$BT_ROOT'"
fi

# tmpdir_new [NAME]: print the path of a new empty scratch directory.
tmpdir_new() {
    mktemp -d "$BT_ROOT/${1:-tmp}.XXXXXX"
}

# -------------------------------------------------------------------- ports

# free_port: print a TCP port that is free on 127.0.0.1 right now.  There
# is a small race until the caller binds it; wait_port catches the rare loss.
free_port() {
    "$PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# wait_port PORT [TIMEOUT_SECONDS=10]: succeed once something accepts
# connections on 127.0.0.1:PORT.
wait_port() {
    local port="$1" timeout="${2:-10}" i
    for ((i = 0; i < timeout * 10; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}
