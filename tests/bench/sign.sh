#!/usr/bin/env bash
# Time of bosun sign, attest and verify against a local docker-registry
# (hyperfine medians), per signature format: legacy (the .sig / .att tags),
# bundle (Sigstore bundles as OCI 1.1 referrers, the referrers tag schema
# here: docker-registry has no referrers API) and both (the default). No
# keyed cosign is packaged in Debian, so there is no peer; the figures are
# absolute. "encrypted key" includes the scrypt (N=65536) key decryption;
# "plain key" (PKCS#8) is signing without it. Every run adds a signature,
# so later runs write into a bigger manifest / index; each command has its
# own repository, as another key's signature younger than 3 s makes a
# signer take the careful (pausing) path. "6 at once" is the
# wall time of six signers (six keys) of one image started together.
# Targets (issue 16): plain-key sign <= 150 ms, attest <= 200 ms.
set -euo pipefail
source "$(dirname "$0")/../lib/registry.sh"
source "$TESTLIB/images.sh"

RUNS=${BENCH_RUNS:-20}
W=$(tmpdir_new bench-sign)
registry_start_open
make_busybox_oci "$W/bb" 1.0 >/dev/null
cd "$W"
export COSIGN_PASSWORD=bench
"$BOSUN" -q keygen --output-key-prefix enc >/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out plain.pem 2>/dev/null
chmod 600 plain.pem
openssl pkey -in plain.pem -pubout -out plain.pub
for i in 1 2 3 4 5 6; do
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out k$i.pem 2>/dev/null
	chmod 600 k$i.pem
done
echo '{"buildDefinition":{"buildType":"bench"},"runDetails":{"builder":{"id":"bench"}}}' >prov.json
args=()
for f in legacy bundle both; do
	for c in sp se ap ae; do "$BOSUN" -q copy "oci:$W/bb:1.0" "$REG/bench/$f-$c:1.0" >/dev/null; done
	"$BOSUN" -q copy "oci:$W/bb:1.0" "$REG/bench/$f-one:1.0" >/dev/null
	"$BOSUN" -q copy "oci:$W/bb:1.0" "$REG/bench/$f-race:1.0" >/dev/null
	"$BOSUN" -q sign --signature-format $f --key plain.pem "$REG/bench/$f-one:1.0" >/dev/null
	"$BOSUN" -q attest --signature-format $f --key plain.pem --type slsaprovenance --predicate prov.json "$REG/bench/$f-one:1.0" >/dev/null
	cat >race-$f.sh <<SH
for i in 1 2 3 4 5 6; do "$BOSUN" -q sign --signature-format $f --key k\$i.pem "$REG/bench/$f-race:1.0" >/dev/null & done
wait
SH
	args+=(-n "$f: sign (plain key)" "$BOSUN -q sign --signature-format $f --key plain.pem $REG/bench/$f-sp:1.0"
		-n "$f: sign (encrypted key)" "$BOSUN -q sign --signature-format $f --key enc.key $REG/bench/$f-se:1.0"
		-n "$f: attest (plain key)" "$BOSUN -q attest --signature-format $f --key plain.pem --type slsaprovenance --predicate prov.json $REG/bench/$f-ap:1.0"
		-n "$f: attest (encrypted key)" "$BOSUN -q attest --signature-format $f --key enc.key --type slsaprovenance --predicate prov.json $REG/bench/$f-ae:1.0"
		-n "$f: verify (1 sig + 1 att)" "$BOSUN -q verify --key plain.pub --attestation slsaprovenance $REG/bench/$f-one:1.0"
		-n "$f: 6 signers at once (wall)" "bash race-$f.sh")
done
hyperfine -N --runs "$RUNS" --warmup 2 --export-json "$W/sign.json" "${args[@]}" >/dev/null
"$PYTHON" - "$W/sign.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
for x in r:
    print("%-34s median %7.1f ms  (min %.1f, max %.1f)" % (x["command"], x["median"] * 1e3, x["min"] * 1e3, x["max"] * 1e3))
m = {x["command"]: x["median"] for x in r}
print("scrypt share of sign with an encrypted key (both): %.1f ms" % ((m["both: sign (encrypted key)"] - m["both: sign (plain key)"]) * 1e3))
for f in ("legacy", "bundle", "both"):
    s, a = m[f + ": sign (plain key)"] * 1e3, m[f + ": attest (plain key)"] * 1e3
    print("%-6s targets: sign %.0f ms (<= 150: %s), attest %.0f ms (<= 200: %s)" % (f, s, "yes" if s <= 150 else "NO", a, "yes" if a <= 200 else "NO"))
PY
