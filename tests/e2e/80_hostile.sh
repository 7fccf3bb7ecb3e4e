#!/usr/bin/env bash
# Hostile inputs (tests/hostile/make.py generates them here; expected
# outcome of each in its cases.tsv): crafted tar layers through `bosun build`
# (which unpacks them) and `bosun scan` (which reads them), crafted
# manifests/indexes through `copy` and `inspect`, Dockerfiles through
# `build`, OSV zips through `db build`, malformed keys through `verify`.
# Each case: the documented exit code and message, nothing written outside
# its own run directory (canaries, a listing of the scratch area, /etc and
# /dev/null, and a search of the host for the "hostile" names the inputs
# use), no setuid file created by scan, memory bounded by ulimit -v, and
# under ASan (BOSUN=build/asan/bosun) no sanitizer report.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$TESTLIB/images.sh"

PY=/usr/bin/python3
W="$(tmpdir_new hostile)"
chmod 755 "$BT_ROOT" "$W"
make_busybox_oci "$W/base" t >/dev/null
GZ_BOMB_MB="${GZ_BOMB_MB:-1024}" OSV_ENTRIES="${OSV_ENTRIES:-200000}" \
    "$PY" "$REPO/tests/hostile/make.py" "$W/gen" "$W/base" >/dev/null
N=$(wc -l <"$W/gen/cases.tsv")
if [ "$N" -ge 30 ]; then ok "corpus: $N hostile cases generated"; else fail "corpus: only $N cases"; fi
DB="$W/db.sqlite"
mkdir -p "$W/feed"
cp "$REPO/tests/fuzz/corpus/osv/1" "$W/feed/a.json"
"$BOSUN" db build --osv "$W/feed" -o "$DB" >/dev/null 2>&1

# Canaries next to every run directory, and the host places an escape would hit.
mkdir -p "$W/outside"
echo canary >"$W/outside/canary"
MARK="$W/.mark"
touch "$MARK"
sleep 1
snap_scratch() { (cd "$W" && find . -path './run' -prune -o -printf '%p %y %s %m\n' | sort); }
snap_host() {
    { find /etc -xdev -printf '%p %y %s %m %T@\n' 2>/dev/null | sort; stat -c '%F %t:%T %a' /dev/null; } | sha256sum
}
SCRATCH0="$(snap_scratch)"
HOST0="$(snap_host)"

ASAN=0
case "$BOSUN" in *asan*) ASAN=1 ;; esac
# ASan reserves terabytes of address space: no ulimit -v for it.
MEM_KB=2097152
limited() {
    if [ "$ASAN" = 1 ]; then timeout 300 "$@"; else (ulimit -v "$MEM_KB" && exec timeout 300 "$@"); fi
}

# run_case NAME WANT REGEX CMD...: exit code, message, no sanitizer report.
run_case() {
    local name="$1" want="$2" re="$3"; shift 3
    OUT="$(limited "$@" 2>&1)" && RC=0 || RC=$?
    local why=""
    if [ "$RC" -ne "$want" ]; then why="expected exit $want, got $RC"; fi
    if [ -z "$why" ] && [ -n "$re" ] && [ "$want" -ne 0 ] && ! printf '%s' "$OUT" | grep -Eq -- "$re"; then
        why="message does not match /$re/"
    fi
    if [ -z "$why" ] && printf '%s' "$OUT" | grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:'; then
        why="sanitizer report"
    fi
    if [ -z "$why" ] && [ "$want" -ne 0 ] && [ "$(printf '%s\n' "$OUT" | grep -c '^bosun ')" -ne 1 ]; then
        why="not one 'bosun ...' error line"
    fi
    if [ -z "$why" ]; then ok "$name (exit $RC)"; else
        fail "$name" "command: $(_cmdline "$@")" "$why" "$(printf '%s\n' "$OUT" | tail -n 5 | cut -c1-300)"
    fi
}

# after_case NAME: nothing outside the run dir changed; then drop the run dir.
after_case() {
    local name="$1" now
    now="$(snap_scratch)"
    if [ "$now" != "$SCRATCH0" ] || [ "$(cat "$W/outside/canary" 2>/dev/null)" != canary ]; then
        fail "$name: nothing written outside its run dir" "$(diff <(printf '%s\n' "$SCRATCH0") <(printf '%s\n' "$now") | head -n 10)"
        SCRATCH0="$now"
    fi
    rm -rf "$W/run"
}

while IFS=$'\t' read -r name kind path want re; do
    R="$W/run"
    mkdir -p "$R"
    chmod 755 "$R"
    src="$W/gen/$path"
    case "$kind" in
    layer)
        mkdir -p "$R/ctx"
        printf 'FROM oci:%s:t\nRUN true\n' "$src" >"$R/ctx/Dockerfile"
        run_case "layer $name: build" "$want" "$re" "$BOSUN" build --cache-dir "$R/cache" -t x \
            --output "oci:$R/out:x" "$R/ctx"
        scan_want=0
        if [ "$name" = tarjunk ]; then scan_want=3; fi
        run_case "layer $name: scan" "$scan_want" "" "$BOSUN" scan --db "$DB" --db-max-age 0 \
            --cache-dir "$R/scancache" "oci:$src:t"
        suid="$(find "$R/scancache" "$W/gen" -perm /6000 2>/dev/null | head -n 3)"
        if [ -n "$suid" ]; then fail "layer $name: scan created setuid files" "$suid"; fi
        ;;
    scanonly)
        start=$(date +%s)
        run_case "layer $name: scan" "$want" "$re" "$BOSUN" scan --db "$DB" --db-max-age 0 \
            --cache-dir "$R/scancache" "oci:$src:t"
        diag "$name: scan read it in $(($(date +%s) - start)) s (scan keeps nothing of it)"
        # A build unpacks the layer: the size limit must stop it.
        mkdir -p "$R/ctx"
        printf 'FROM oci:%s:t\nRUN true\n' "$src" >"$R/ctx/Dockerfile"
        run_case "layer $name: build stops at BOSUN_MAX_LAYER_SIZE" 3 "expands to more than 64 MiB" \
            env BOSUN_MAX_LAYER_SIZE=64M "$BOSUN" build --cache-dir "$R/cache" -t x --output "oci:$R/out:x" "$R/ctx"
        ;;
    image)
        run_case "image $name: copy" "$want" "$re" "$BOSUN" copy "oci:$src:t" "oci:$R/copy:t"
        run_case "image $name: inspect" "$want" "$re" "$BOSUN" inspect "oci:$src:t"
        ;;
    dockerfile)
        run_case "dockerfile $name: build" "$want" "$re" "$BOSUN" build --cache-dir "$R/cache" -t x \
            --output "oci:$R/out:x" "$src"
        ;;
    osv)
        run_case "osv $name: db build" "$want" "$re" "$BOSUN" db build --osv "$src" -o "$R/vuln.db"
        ;;
    key)
        run_case "key $name: verify" "$want" "$re" "$BOSUN" verify --key "$src" "localhost:1/hostile:t"
        ;;
    *) fail "unknown case kind $kind" ;;
    esac
    after_case "$name"
done <"$W/gen/cases.tsv"

# The host: /etc and /dev/null untouched, no "hostile" name anywhere it
# could have escaped to (the inputs name every planted file hostile-*).
if [ "$(snap_host)" = "$HOST0" ]; then ok "host: /etc and /dev/null untouched"; else
    fail "host: /etc or /dev/null changed"; fi
esc="$(find /etc /tmp /root /var/tmp "$REPO" -xdev -newer "$MARK" -name 'hostile-*' \
    -not -path "$W/*" 2>/dev/null | head -n 5)"
if [ -z "$esc" ]; then ok "host: no hostile-* file outside the scratch root"; else
    fail "host: files escaped" "$esc"; fi
finish
