#!/usr/bin/env bash
# tests/lib/binfmt.sh — register Debian's qemu-user-static with the kernel's
# binfmt_misc, so RUN steps of a foreign platform can execute (multi-platform
# builds, tests/e2e/36_build_multiplatform.sh).
#
#   tests/lib/binfmt.sh [ARCH...]     (default: aarch64)
#
# As root: mounts binfmt_misc on /proc/sys/fs/binfmt_misc when it is not
# mounted, then enables qemu-ARCH with update-binfmts (binfmt-support) and
# checks the kernel now lists it enabled with the F (fix binary) flag, which
# the builder needs: the interpreter is opened at registration, so it works
# inside the build's pivoted root. Idempotent. Exits 0 when every handler is
# registered, 1 otherwise (with the reason on stderr). Called by `make deps`
# (hence by .ci/run on a fresh machine) and by the suite itself.
# Sourcing it defines binfmt_setup and binfmt_ok without running anything.

BINFMT_DIR="${BINFMT_DIR:-/proc/sys/fs/binfmt_misc}"

# binfmt_ok ARCH: the kernel has qemu-ARCH enabled with the F flag.
binfmt_ok() {
    local f="$BINFMT_DIR/qemu-$1"
    [ -r "$f" ] && grep -qx enabled "$f" && grep -q '^flags: .*F' "$f"
}

binfmt_setup() {
    local a rc=0 missing=0
    [ "$#" -gt 0 ] || set -- aarch64
    for a in "$@"; do binfmt_ok "$a" || missing=1; done
    [ "$missing" -eq 1 ] || return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "binfmt.sh: registering qemu needs root" >&2
        return 1
    fi
    if [ ! -e "$BINFMT_DIR/register" ]; then
        mount -t binfmt_misc binfmt_misc "$BINFMT_DIR" 2>/dev/null || {
            echo "binfmt.sh: cannot mount binfmt_misc on $BINFMT_DIR" >&2
            return 1
        }
    fi
    if ! command -v update-binfmts >/dev/null; then
        echo "binfmt.sh: update-binfmts missing (apt-get install binfmt-support qemu-user-static)" >&2
        return 1
    fi
    for a in "$@"; do
        binfmt_ok "$a" && continue
        if [ ! -e "/usr/share/binfmts/qemu-$a" ]; then
            echo "binfmt.sh: no qemu-$a format (apt-get install qemu-user-static)" >&2
            rc=1
            continue
        fi
        update-binfmts --enable "qemu-$a" >/dev/null 2>&1 || true
        if ! binfmt_ok "$a"; then
            echo "binfmt.sh: qemu-$a is not registered with the F flag after update-binfmts --enable" >&2
            rc=1
        fi
    done
    return "$rc"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    binfmt_setup "$@"
fi
