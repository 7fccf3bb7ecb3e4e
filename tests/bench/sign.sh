#!/usr/bin/env bash
# Time of bosun sign and bosun verify against a local docker-registry
# (hyperfine medians). No keyed cosign is packaged in Debian, so there is no
# peer here; the figures are absolute. "encrypted key" includes the scrypt
# (N=65536) key decryption; "PKCS#8 key" shows signing without it. Signing
# appends a layer per run, so later runs sign into a bigger .sig manifest.
set -euo pipefail
source "$(dirname "$0")/../lib/registry.sh"
source "$TESTLIB/images.sh"

RUNS=${BENCH_RUNS:-20}
W=$(tmpdir_new bench-sign)
registry_start_open
make_busybox_oci "$W/bb" 1.0 >/dev/null
"$BOSUN" -q copy "oci:$W/bb:1.0" "$REG/bench/bb:1.0" >/dev/null
cd "$W"
export COSIGN_PASSWORD=bench
"$BOSUN" -q keygen --output-key-prefix enc >/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out plain.pem 2>/dev/null
chmod 600 plain.pem
openssl pkey -in plain.pem -pubout -out plain.pub
"$BOSUN" -q copy "oci:$W/bb:1.0" "$REG/bench/one:1.0" >/dev/null
"$BOSUN" -q sign --key plain.pem "$REG/bench/one:1.0" >/dev/null
hyperfine -N --runs "$RUNS" --warmup 2 --export-json "$W/sign.json" \
	-n "sign (encrypted key)" "$BOSUN -q sign --key enc.key $REG/bench/bb:1.0" \
	-n "sign (PKCS#8 key)" "$BOSUN -q sign --key plain.pem $REG/bench/bb:1.0" \
	-n "verify (1 signature)" "$BOSUN -q verify --key plain.pub $REG/bench/one:1.0" >/dev/null
n=$(curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$REG_URL/v2/bench/bb/manifests/sha256-${IMG_MANIFEST_DIGEST#sha256:}.sig" | grep -o simplesigning | wc -l)
hyperfine -N --runs "$RUNS" --warmup 2 --export-json "$W/verify.json" \
	-n "verify ($n signatures)" "$BOSUN -q verify --key plain.pub $REG/bench/bb:1.0" >/dev/null
"$PYTHON" - "$W/sign.json" "$W/verify.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"] + json.load(open(sys.argv[2]))["results"]
for x in r:
    print("%-24s median %7.1f ms  (min %.1f, max %.1f)" % (x["command"], x["median"] * 1e3, x["min"] * 1e3, x["max"] * 1e3))
m = {x["command"]: x["median"] for x in r}
print("scrypt share of sign with an encrypted key: %.1f ms" % ((m["sign (encrypted key)"] - m["sign (PKCS#8 key)"]) * 1e3))
PY
