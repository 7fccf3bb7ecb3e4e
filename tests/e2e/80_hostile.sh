#!/usr/bin/env bash
# Hostile inputs (tests/hostile/make.py generates them here; expected
# outcome of each in its cases.tsv): crafted tar layers through `bosun build`
# (which unpacks them) and `bosun scan` (which reads them), crafted
# manifests/indexes through `copy` and `inspect`, Dockerfiles through
# `build`, OSV zips through `db build`, malformed keys through `verify`,
# gzip bombs (10 GiB of zeros) through `scan` and `build`; then hostile
# servers (tests/lib/hostileserver.py: endless manifests, blobs and token
# answers, huge or malformed challenges, realms that are not http) through
# `inspect`, `copy`, `scan` and `base check`.
# Each case: the documented exit code and message, nothing written outside
# its own run directory (canaries, a listing of the scratch area, the /etc
# files the inputs aim at and /dev/null, and a search of the host for the
# "hostile" names the inputs use), no setuid file created by scan, memory
# bounded by ulimit -v, and
# under ASan (BOSUN=build/asan/bosun) no sanitizer report. Ends with a
# table of every run: case, expected exit, exit, seconds.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$TESTLIB/images.sh"

PY=/usr/bin/python3
T_START=$(date +%s.%N)
secs_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
W="$(tmpdir_new hostile)"
chmod 755 "$BT_ROOT" "$W"
make_busybox_oci "$W/base" t >/dev/null
GZ_MB="${GZ_BOMB_MB:-10240}"
t0=$(date +%s.%N)
GZ_BOMB_MB="$GZ_MB" OSV_ENTRIES="${OSV_ENTRIES:-1000000}" \
    "$PY" "$REPO/tests/hostile/make.py" "$W/gen" "$W/base" >/dev/null
N=$(wc -l <"$W/gen/cases.tsv")
diag "corpus generated in $(secs_since "$t0") s"
# The servers' modes are cases too (counted from the server's own list).
NS=$("$PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import hostileserver as h; print(len(h.ALL_MODES) - 1)' "$TESTLIB")
if [ $((N + NS)) -ge 30 ]; then ok "corpus: $N crafted inputs + $NS hostile server modes"; else
    fail "corpus: only $N inputs + $NS server modes"; fi
SUMMARY="$(tmpdir_new summary)/runs.tsv"  # outside $W: the scratch listing must not see it
: >"$SUMMARY"
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
# The files the corpus aims at (links, whiteouts and symlinked parents point
# at them) and /dev/null; not all of /etc, which package installs on a
# shared machine change (ld.so.cache) while this runs. New files anywhere
# are caught by the hostile-* search at the end.
snap_host() {
    stat -c '%n %F %i %s %a %h %Y %t:%T' /etc/passwd /etc/shadow /etc/group /etc/hosts /dev/null 2>&1
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

# run_case NAME WANT REGEX CMD...: exit code, message (matched whatever the
# exit code when REGEX is given), no sanitizer report; a row in $SUMMARY.
run_case() {
    local name="$1" want="$2" re="$3"; shift 3
    local t0
    t0=$(date +%s.%N)
    OUT="$(limited "$@" 2>&1)" && RC=0 || RC=$?
    local why="" took
    took=$(secs_since "$t0")
    if [ "$RC" -ne "$want" ]; then why="expected exit $want, got $RC"; fi
    if [ -z "$why" ] && [ -n "$re" ] && ! grep -Eq -- "$re" <<<"$OUT"; then
        why="message does not match /$re/"
    fi
    if [ -z "$why" ] && grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' <<<"$OUT"; then
        why="sanitizer report"
    fi
    if [ -z "$why" ] && [ "$want" -ne 0 ] && [ "$(printf '%s\n' "$OUT" | grep -c '^bosun ')" -ne 1 ]; then
        why="not one 'bosun ...' error line"
    fi
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$want" "$RC" "$([ -z "$why" ] && echo ok || echo FAIL)" "$took" >>"$SUMMARY"
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
    bomb-one | bomb-many)
        # scan reads layers without unpacking, in bounded memory, and stops
        # at the same BOSUN_MAX_LAYER_SIZE (default 8 GiB): one 10 GiB member
        # at its header, 1 MiB members once 8 GiB have been inflated.
        if [ "$GZ_MB" -gt 8192 ]; then
            run_case "layer $name: scan stops at the default BOSUN_MAX_LAYER_SIZE" 3 \
                "expands to more than 8192 MiB" env -u BOSUN_MAX_LAYER_SIZE "$BOSUN" scan --db "$DB" \
                --db-max-age 0 --cache-dir "$R/scancache" "oci:$src:t"
        else
            run_case "layer $name: scan stops at BOSUN_MAX_LAYER_SIZE=64M" 3 "expands to more than 64 MiB" \
                env BOSUN_MAX_LAYER_SIZE=64M "$BOSUN" scan --db "$DB" --db-max-age 0 \
                --cache-dir "$R/scancache" "oci:$src:t"
        fi
        diag "$name: scan stopped after $(tail -n 1 "$SUMMARY" | cut -f5) s"
        # build unpacks it: BOSUN_MAX_LAYER_SIZE stops it. One member of
        # 10 GiB is refused at its header under the default 8 GiB; members
        # of 1 MiB are counted as they inflate, under a 64 MiB limit.
        mkdir -p "$R/ctx"
        printf 'FROM oci:%s:t\nRUN true\n' "$src" >"$R/ctx/Dockerfile"
        if [ "$kind" = bomb-one ] && [ "$GZ_MB" -gt 8192 ]; then
            run_case "layer $name: build stops at the default BOSUN_MAX_LAYER_SIZE" "$want" \
                "expands to more than 8192 MiB" env -u BOSUN_MAX_LAYER_SIZE "$BOSUN" build \
                --cache-dir "$R/cache" -t x --output "oci:$R/out:x" "$R/ctx"
        else
            run_case "layer $name: build stops at BOSUN_MAX_LAYER_SIZE=64M" "$want" "$re" \
                env BOSUN_MAX_LAYER_SIZE=64M "$BOSUN" build --cache-dir "$R/cache" -t x \
                --output "oci:$R/out:x" "$R/ctx"
        fi
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

# ---- hostile servers: one listener per mode (tests/lib/hostileserver.py).
# The password is unique to this run: it must appear in no output.
HS="$(tmpdir_new hostileserver)"
"$PY" "$TESTLIB/hostileserver.py" --ports "$HS/ports" --log "$HS/log" >"$HS/stderr" 2>&1 &
HS_PID=$!
at_exit "kill_wait $HS_PID"
for _ in $(seq 100); do [ -s "$HS/ports" ] && break; sleep 0.1; done
hs_port() { awk -v m="$1" '$1 == m { print $2 }' "$HS/ports"; }
PW="hostile-pw-$$-$RANDOM$RANDOM"
PW64="$(printf 'hostile:%s' "$PW" | base64 -w0)"
# hs_cases MODE CMDS WANT REGEX: run each of CMDS (inspect copy scan base)
# against 127.0.0.1:PORT/hostile/repo:t with --creds, under the same limits.
hs_cases() {
    local mode="$1" cmds="$2" want="$3" re="$4" port ref cmd lines
    port="$(hs_port "$mode")"
    if [ -z "$port" ]; then fail "server $mode: not listening" "$(cat "$HS/stderr")"; return; fi
    ref="127.0.0.1:$port/hostile/repo:t"
    lines=$(wc -l <"$HS/log")
    for cmd in $cmds; do
        R="$W/run"
        mkdir -p "$R"
        case "$cmd" in
        inspect) run_case "server $mode: inspect" "$want" "$re" "$BOSUN" inspect --creds "hostile:$PW" "$ref" ;;
        copy) run_case "server $mode: copy to oci:" "$want" "$re" "$BOSUN" copy --creds "hostile:$PW" "$ref" "oci:$R/copy:t" ;;
        scan) run_case "server $mode: scan" "$want" "$re" "$BOSUN" scan --db "$DB" --db-max-age 0 \
            --cache-dir "$R/scancache" --creds "hostile:$PW" "$ref" ;;
        base) run_case "server $mode: base check" "$want" "$re" "$BOSUN" base check --creds "hostile:$PW" "$ref" ;;
        esac
        if grep -qF -e "$PW" -e "$PW64" <<<"$OUT"; then fail "server $mode: $cmd printed the password"; fi
        after_case "server $mode"
    done
    # Bytes the server got out before bosun hung up (socket buffers
    # included): an endless body must be abandoned near the cap, not read
    # until the timeout.
    local most
    most=$(tail -n +"$((lines + 1))" "$HS/log" | awk -v m="$mode" '$1 == m { sub("sent=", "", $5); if ($5 + 0 > x) x = $5 + 0 } END { print x + 0 }')
    if [ "$most" -lt $((64 << 20)) ]; then ok "server $mode: largest body served before bosun hung up: $most bytes"; else
        fail "server $mode: bosun read $most bytes of one answer"; fi
}
LIMIT='[0-9]+-byte limit'
# Endless or over-announced manifests: the 4 MiB manifest cap, exit 3.
for m in manifest-endless manifest-hugecl manifest-chunked; do
    hs_cases "$m" "inspect copy scan base" 3 "get manifest hostile/repo:t: response (of [0-9]+ bytes )?exceeds the $LIMIT"
done
# A layer served past its descriptor's size: cut off there, exit 3; inspect
# reads no layer and succeeds.
for m in blob-endless blob-hugecl; do
    hs_cases "$m" "copy scan" 3 "blob is larger than its descriptor says \(127 bytes\)"
    hs_cases "$m" "inspect" 0 ""
done
# A config served past its size: cut off at the descriptor's size too.
# scan reads the config only to find the base image named in its labels
# (best effort) and scans the verified layers: exit 0, with a warning.
hs_cases config-endless "inspect copy base" 3 "blob is larger than its descriptor says \(237 bytes\)"
hs_cases config-endless "scan" 0 "warning: image config sha256:[0-9a-f]{12}: .*blob is larger than its descriptor says.*base image is not known"
# Token answers of 1 GB or without end: the 64 KiB token cap, exit 4.
for m in token-1gb token-endless; do
    hs_cases "$m" "inspect copy scan" 4 "token request to 127\.0\.0\.1:[0-9]+: response (of 1073741824 bytes )?exceeds the $LIMIT"
done
# Challenges: a 1 MiB header line (curl refuses it), 36 headers of 8 KB
# (bosun joins them; the realm then has no token), control bytes.
hs_cases wwwauth-huge "inspect copy scan" 4 "ping: response header too large"
hs_cases wwwauth-many "inspect" 4 "token request to 127\.0\.0\.1:[0-9]+: HTTP 404"
hs_cases wwwauth-garbage "inspect" 4 "token realm is not an http\(s\) URL"
# Realms that are not http(s), and a realm redirecting to one: refused
# before any request goes there.
for m in realm-file realm-gopher; do
    hs_cases "$m" "inspect copy scan" 4 "token realm is not an http\(s\) URL"
done
hs_cases realm-redirect-file "inspect" 4 "token request to 127\.0\.0\.1:[0-9]+: bad redirect location"
if grep -E '^realm-(file|gopher) ' "$HS/log" | grep -qv ' GET /v2/ 401 '; then
    fail "server realm-file/realm-gopher: more than the ping was asked" "$(grep -E '^realm-(file|gopher) ' "$HS/log" | head -n 5)"
else
    ok "server realm-file/realm-gopher: nothing asked after the challenge"
fi
# A realm on this host redirecting to another host (127.0.0.2) that issues
# the token: works (Docker Hub's realm is another host too), but the Basic
# credentials go to the realm's own origin only, never to the redirect.
hs_cases realm-redirect-host "inspect copy" 0 ""
if grep -q '^realm-redirect-host GET /token 302 .* auth=yes' "$HS/log" &&
    grep -q '^token-host2 GET /token 200 ' "$HS/log" && ! grep -q '^token-host2 .* auth=yes' "$HS/log"; then
    ok "server realm-redirect-host: credentials sent to the realm, not to the host it redirects to"
else
    fail "server realm-redirect-host: credentials" "$(grep -E '^(realm-redirect-host|token-host2)' "$HS/log" | head -n 8)"
fi
kill_wait "$HS_PID" || true  # (errexit off inside: its kill -9 of a gone process fails)

# The host: /etc and /dev/null untouched, no "hostile" name anywhere it
# could have escaped to (the inputs name every planted file hostile-*).
if [ "$(snap_host)" = "$HOST0" ]; then ok "host: /etc and /dev/null untouched"; else
    fail "host: /etc or /dev/null changed"; fi
esc="$(find /etc /tmp /root /var/tmp "$REPO" -xdev -newer "$MARK" -name 'hostile-*' \
    -not -path "$W/*" 2>/dev/null | head -n 5 || true)"  # other jobs' files vanish under find
if [ -z "$esc" ]; then ok "host: no hostile-* file outside the scratch root"; else
    fail "host: files escaped" "$esc"; fi
# The table of runs, for the notes: case, expected exit, exit, seconds.
diag "summary: $(wc -l <"$SUMMARY") runs"
diag "$(printf '%-68s %4s %4s %7s  %s' case want got seconds result)"
while IFS=$'\t' read -r n w g f t; do
    diag "$(printf '%-68s %4s %4s %7s  %s' "$n" "$w" "$g" "$t" "$f")"
done <"$SUMMARY"
diag "total $(secs_since "$T_START") s"
finish
