#!/usr/bin/env bash
# One sweep for secrets across every feature. Unique secret strings are
# seeded through every way bosun takes one: a registry password with
# --creds, another in BOSUN_USERNAME/BOSUN_PASSWORD, a third in a docker
# config.json `auth`, the Bearer tokens the token server issues, the signing
# key's password in BOSUN_KEY_PASSWORD, and a build secret
# (--secret id=..,src=.. read by RUN --mount=type=secret). Then build --push,
# copy, inspect, scan, sign, attest, verify and ship run with -v -v, and
# every byte they left is searched: stdout and stderr, every report file,
# every blob in the registry's storage and in every OCI layout written
# (gzip and zstd layers decompressed, so the tar contents are searched too;
# configs and their history are blobs), the layer cache and bosun's own
# cache. None of the secrets may appear; the trace shows Authorization
# headers with their scheme only.
# (12_auth.sh checks each credential source works; 30_build_run.sh the
# build secret's life inside RUN; this suite is the cross-feature sweep.)
set -u
source "$(dirname "$0")/../lib/registry.sh"
source "$TESTLIB/images.sh"

W=$(tmpdir_new secrets)
cd "$W" || exit 1
unset TF_BUILD JENKINS_URL GITHUB_OUTPUT GITHUB_STEP_SUMMARY BOSUN_KEY_PASSWORD COSIGN_PASSWORD \
    BOSUN_PASSWORD BOSUN_USERNAME REGISTRY_AUTH_FILE
export BOSUN_PROGRESS=plain XDG_CACHE_HOME="$W/xdg-cache" HOME="$W/home"
export DOCKER_CONFIG="$W/no-docker-config"
mkdir -p "$DOCKER_CONFIG" "$HOME" "$XDG_CACHE_HOME" out
rnd() { od -An -N12 -tx1 /dev/urandom | tr -d ' \n'; }
PW_CREDS="creds-pw-$(rnd)"
PW_ENV="env-pw-$(rnd)"
PW_CFG="cfg-pw-$(rnd)"
PW_KEY="key-pw-$(rnd)"
BUILD_SECRET="build-secret-$(rnd)"
AUTH_CFG=$(printf 'carol:%s' "$PW_CFG" | base64 -w0)
SECRETS=("$PW_CREDS" "$PW_ENV" "$PW_CFG" "$PW_KEY" "$BUILD_SECRET" "$AUTH_CFG"
    "$(printf 'alice:%s' "$PW_CREDS" | base64 -w0)" "$(printf 'bob:%s' "$PW_ENV" | base64 -w0)")
ISSUED="$W/issued-tokens"
: >"$ISSUED"

# Bearer-token registry with three users, one per credential source.
registry_start_token alice "$PW_CREDS" --user "bob:$PW_ENV" --user "carol:$PW_CFG" --issued-file "$ISSUED"
mkdir -p "$W/cfg"
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REG" "$AUTH_CFG" >"$W/cfg/config.json"

N=0
# run NAME EXPECTED_RC [ENV=V...] -- bosun ARGS...: stdout and stderr kept
# in out/NAME.{out,err} for the sweep.
run() {
    local name=$1 want=$2 envs=()
    shift 2
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    N=$((N + 1))
    env "${envs[@]}" "$BOSUN" "$@" >"out/$name.out" 2>"out/$name.err" && RC=0 || RC=$?
    OUT=$(cat "out/$name.out" "out/$name.err")
    if [ "$RC" -eq "$want" ]; then
        ok "$name: exit $want"
    else
        fail "$name: exit $want" "got $RC" "$(tail -n 15 "out/$name.err")"
    fi
}

# ---- the base, the key, the database, the build context
make_busybox_oci "$W/bb" 1 >/dev/null
run push-base 0 -- -v -v copy --creds "alice:$PW_CREDS" "oci:$W/bb:1" "$REG/base/busybox:1"
run keygen 0 BOSUN_KEY_PASSWORD="$PW_KEY" -- -v -v keygen --output-key-prefix "$W/k"
mkdir -p osv
cat >osv/BOSUN-DEMO-2024-0001.json <<'J'
{"schema_version": "1.6.0", "id": "BOSUN-DEMO-2024-0001", "modified": "2026-01-01T00:00:00Z",
 "summary": "DEMO DATA: a Go module advisory", "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"}],
 "affected": [{"package": {"ecosystem": "Go", "name": "example.com/none"},
               "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.0.1"}]}]}]}
J
run db-build 0 -- -v db build --osv osv -o "$W/vuln.db"
mkdir -p ctx
echo hello >ctx/hello.txt
printf '%s' "$BUILD_SECRET" >"$W/build-secret.txt"
cat >ctx/Dockerfile <<EOF
FROM $REG/base/busybox:1
COPY hello.txt /hello.txt
RUN --mount=type=secret,id=tok test -s /run/secrets/tok && wc -c < /run/secrets/tok > /toklen && \\
    sha256sum /run/secrets/tok | cut -c1-8 > /tokhash && cp /run/secrets/tok /tmp/gone && rm /tmp/gone
EOF

# ---- every feature, -v -v (debug and trace)
run build-push 0 -- -v -v build --creds "alice:$PW_CREDS" --secret id=tok,src="$W/build-secret.txt" \
    --cache-dir "$W/cache" -t "$REG/app/one:1" --push --output "oci:$W/layout-build:1" ctx
DIG=$(tail -n1 out/build-push.out)
run build-zstd 0 -- -v -v build --creds "alice:$PW_CREDS" --secret id=tok,src="$W/build-secret.txt" \
    --compression zstd --output "oci:$W/layout-zstd:1" ctx
run copy-env 0 BOSUN_USERNAME=bob BOSUN_PASSWORD="$PW_ENV" -- -v -v copy "$REG/app/one:1" "oci:$W/layout-copy:1"
run inspect-cfg 0 DOCKER_CONFIG="$W/cfg" -- -v -v inspect --format json "$REG/app/one:1"
run scan-env 0 BOSUN_USERNAME=bob BOSUN_PASSWORD="$PW_ENV" -- -v -v scan --db "$W/vuln.db" \
    --format sarif -o "$W/scan.sarif" --format json -o "$W/scan.json" --format cyclonedx -o "$W/scan.cdx.json" \
    --format junit -o "$W/scan.junit.xml" --format markdown -o "$W/scan.md" --format table "$REG/app/one:1"
run sign-cfg 0 DOCKER_CONFIG="$W/cfg" BOSUN_KEY_PASSWORD="$PW_KEY" -- -v -v sign --key "$W/k.key" -a team=x "$REG/app/one:1"
printf '{"note":"predicate"}\n' >"$W/pred.json"
run attest-cfg 0 DOCKER_CONFIG="$W/cfg" BOSUN_KEY_PASSWORD="$PW_KEY" -- -v -v attest --key "$W/k.key" \
    --predicate "$W/pred.json" --type https://example.com/p/v1 "$REG/app/one:1"
run verify-creds 0 -- -v -v verify --creds "alice:$PW_CREDS" --key "$W/k.pub" \
    --attestation https://example.com/p/v1 "$REG/app/one:1"
run ship 0 BOSUN_KEY_PASSWORD="$PW_KEY" -- -v -v ship --creds "alice:$PW_CREDS" --secret id=tok,src="$W/build-secret.txt" \
    -t "$REG/app/ship:1" --db "$W/vuln.db" --key "$W/k.key" --attest --cache-dir "$W/cache" \
    --output "oci:$W/layout-ship:1" --report-dir "$W/reports" --junit "$W/ship-junit.xml" ctx
run ship-env 0 BOSUN_USERNAME=bob BOSUN_PASSWORD="$PW_ENV" BOSUN_KEY_PASSWORD="$PW_KEY" -- -v -v ship \
    -t "$REG/app/ship-env:1" --db "$W/vuln.db" --key "$W/k.key" --report-dir "$W/reports-env" \
    --secret id=tok,src="$W/build-secret.txt" ctx
run verify-ship 0 DOCKER_CONFIG="$W/cfg" -- -v -v verify --key "$W/k.pub" --attestation slsaprovenance \
    --attestation vuln --attestation cyclonedx "$REG/app/ship:1"
# Failures print errors: wrong password, wrong key password, rejected token.
run wrong-creds 4 -- -v -v inspect --retries 0 --creds "alice:x$PW_CREDS" "$REG/app/one:1"
run wrong-key-pw 3 DOCKER_CONFIG="$W/cfg" BOSUN_KEY_PASSWORD="x$PW_KEY" -- -v -v sign --key "$W/k.key" "$REG/app/one:1"
run ship-bad-key-pw 3 BOSUN_KEY_PASSWORD="x$PW_KEY" -- -v -v ship --creds "alice:$PW_CREDS" -t "$REG/app/ship:2" \
    --db "$W/vuln.db" --key "$W/k.key" --report-dir "$W/reports-bad" ctx
# Mistakes that put a secret where something else belongs: the error says
# what is wrong without repeating the value.
run secret-as-value 2 -- build --secret "$BUILD_SECRET" ctx
run ship-secret-as-value 2 -- ship --secret "$BUILD_SECRET" -t "$REG/app/ship:3" --db "$W/vuln.db" ctx
run creds-no-user 2 -- inspect --creds "$PW_CREDS" "$REG/app/one:1"
mkdir -p "$W/cfg-bad"
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REG" "$(printf 'carol%s' "$PW_CFG" | base64 -w0)" >"$W/cfg-bad/config.json"
run cfg-auth-no-colon 3 DOCKER_CONFIG="$W/cfg-bad" -- inspect --retries 0 "$REG/app/one:1"
SECRETS+=("$(printf 'carol%s' "$PW_CFG" | base64 -w0)")

# ---- the features did their work (so the sweep below means something)
[[ "$DIG" == sha256:* ]] && ok "build --push printed the digest" || fail "build digest" "$(cat out/build-push.out)"
for f in reports/junit.xml reports/results.json reports/scan.sarif reports/sbom.cdx.json reports/summary.md \
    reports/report.html ship-junit.xml scan.sarif scan.json scan.junit.xml scan.md; do
    [ -s "$f" ] || fail "report $f written"
done
ok "every report file was written"
check "ship pushed, signed and attested" "$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); s=d["signing"]; assert d["image"]["pushed"] and len(s["signed"]) == 1 and len(s["attestations"]) == 3, s' reports/results.json
mapfile -t TOKENS <"$ISSUED"
[ "${#TOKENS[@]}" -ge 5 ] && ok "the token server issued ${#TOKENS[@]} tokens to bosun" || fail "tokens issued" "${#TOKENS[@]}"
# The build secret was there during RUN (its length and hash prefix are in the image).
tokhash=$(printf '%s' "$BUILD_SECRET" | sha256sum | cut -c1-8)
"$BOSUN" -q copy --creds "alice:$PW_CREDS" "$REG/app/one:1" "oci:$W/layout-check:1" >/dev/null 2>&1
found=0
for b in "$W"/layout-check/blobs/sha256/*; do
    if gzip -t "$b" 2>/dev/null && [ "$(tar -xzOf "$b" toklen 2>/dev/null)" = "${#BUILD_SECRET}" ] &&
        [ "$(tar -xzOf "$b" tokhash 2>/dev/null)" = "$tokhash" ]; then found=1; fi
done
[ "$found" = 1 ] && ok "RUN read the build secret (its length and hash prefix are in the layer)" || fail "build secret readable in RUN"

# ---- the trace shows Authorization, redacted
cat out/*.err >"$W/all-stderr"
grep -qE '^trace: > Authorization: Bearer <redacted>$' "$W/all-stderr" &&
    ok "trace shows 'Authorization: Bearer <redacted>'" || fail "trace shows Bearer redacted" "$(grep -m5 Authorization "$W/all-stderr")"
grep -qE '^trace: > Authorization: Basic <redacted>$' "$W/all-stderr" &&
    ok "trace shows 'Authorization: Basic <redacted>' (token request)" || fail "trace shows Basic redacted" "$(grep -m5 Authorization "$W/all-stderr")"
bad=$(grep -E 'Authorization' "$W/all-stderr" | grep -vE '^trace: > Authorization: (Basic |Bearer )?<redacted>$' | head -n 3)
[ -z "$bad" ] && ok "every Authorization line is redacted ($(grep -c Authorization "$W/all-stderr") lines)" || fail "unredacted Authorization" "$bad"

# ---- the sweep
# sweep_dir DIR: every regular file as is, and gzip/zstd files decompressed
# (a layer's tar, names and contents, is then plain bytes).
SWEEP="$W/sweep"
mkdir -p "$SWEEP"
files=0 layers=0
sweep_file() {
    local f=$1 magic
    files=$((files + 1))
    printf '%s\n' "$f" >>"$SWEEP/list"
    magic=$(head -c4 "$f" | od -An -tx1 | tr -d ' \n')
    case "$magic" in
        1f8b*)
            layers=$((layers + 1))
            gzip -dc "$f" >"$SWEEP/$files.gz.dec" 2>/dev/null || fail "cannot decompress $f"
            printf '%s (gunzipped)\n' "$f" >>"$SWEEP/list" ;;
        28b52ffd)
            layers=$((layers + 1))
            zstd -dcq "$f" >"$SWEEP/$files.zst.dec" 2>/dev/null || fail "cannot decompress $f"
            printf '%s (unzstd)\n' "$f" >>"$SWEEP/list" ;;
    esac
}
while IFS= read -r -d '' f; do sweep_file "$f"; done < <(find "$W/out" "$W/reports" "$W/reports-env" "$W/reports-bad" \
    "$W/ship-junit.xml" "$W"/scan.* "$W"/layout-* "$W/cache" "$XDG_CACHE_HOME" "$HOME" "$REG_DIR/data" "$W/k.pub" \
    -type f -print0 2>/dev/null)
n_zstd=$(grep -c '(unzstd)' "$SWEEP/list")
[ "$layers" -gt 5 ] && [ "$n_zstd" -gt 0 ] && ok "sweep covers $files files, $layers compressed layers ($n_zstd zstd)" ||
    fail "sweep coverage" "$files files, $layers layers, $n_zstd zstd"

# Positive controls: the search does see inside layers. The build wrote
# the secret's hash prefix into /tokhash; it must be found in gzip and in
# zstd layers once decompressed (and nowhere in the compressed bytes).
gz_hits=$(grep -lF -- "$tokhash" "$SWEEP"/*.gz.dec 2>/dev/null | wc -l)
zst_hits=$(grep -lF -- "$tokhash" "$SWEEP"/*.zst.dec 2>/dev/null | wc -l)
[ "$gz_hits" -ge 3 ] && [ "$zst_hits" -ge 1 ] &&
    ok "the sweep reads layer contents: a marker from RUN found in $gz_hits gzip and $zst_hits zstd layers" ||
    fail "the sweep reads layer contents" "gzip $gz_hits, zstd $zst_hits"
grep -qF "GET $REG_URL/v2/app/one/manifests/1" "$W/all-stderr" &&
    ok "the -v -v logs being searched name the requests" || fail "debug logs present" "$(head -5 "$W/all-stderr")"

leak=0
check_secret() { # LABEL VALUE
    local hits
    hits=$(grep -rlF -- "$2" $(sed 's/ (.*)$//' "$SWEEP/list" | sort -u) "$SWEEP" 2>/dev/null | head -n 5)
    if [ -n "$hits" ]; then
        leak=1
        fail "$1 leaked" "$hits"
    fi
}
check_secret "the --creds password" "$PW_CREDS"
check_secret "the BOSUN_PASSWORD password" "$PW_ENV"
check_secret "the config.json password" "$PW_CFG"
check_secret "the config.json auth string" "$AUTH_CFG"
check_secret "a Basic credential (alice)" "${SECRETS[6]}"
check_secret "a Basic credential (bob)" "${SECRETS[7]}"
check_secret "the signing key password" "$PW_KEY"
check_secret "the build secret" "$BUILD_SECRET"
check_secret "a malformed config.json auth" "${SECRETS[8]}"
for t in "${TOKENS[@]}"; do
    check_secret "an issued Bearer token" "$t"
    check_secret "an issued Bearer token's signature" "${t##*.}"
done
[ "$leak" -eq 0 ] && ok "no secret in any of $files files ($N bosun runs: stdout, stderr, reports, registry blobs, layouts, caches; ${#TOKENS[@]} tokens)"

# Image config and history, as ship wrote them to its layout: the RUN is
# recorded, the secret is not.
"$PYTHON" - "$W/layout-ship" >"$W/config-ship.json" <<'PY'
import json, sys
d = sys.argv[1]
blob = lambda dg: open(f"{d}/blobs/sha256/{dg.split(':')[1]}", "rb").read()
m = json.loads(blob(json.load(open(f"{d}/index.json"))["manifests"][0]["digest"]))
print(blob(m["config"]["digest"]).decode())
PY
cfg_ok=1
for s in "${SECRETS[@]}"; do grep -qF -- "$s" "$W/config-ship.json" && cfg_ok=0; done
grep -q 'mount=type=secret,id=tok' "$W/config-ship.json" && [ "$cfg_ok" = 1 ] &&
    ok "image config history shows the RUN, not the secret" || fail "image history" "$(head -c 1200 "$W/config-ship.json")"
finish
