#!/usr/bin/env bash
# Registry protocol corners, with a small proxy (written below) that bends
# a real docker-registry's answers: a registry that refuses monolithic
# uploads (chunked PATCH fallback), blob GETs redirected to a storage host
# that must never see Authorization, corrupt blobs, lying digests, giant
# manifests; plus token auth with cross-repository mounts, identity tokens
# from a credential helper and the registry's own error codes in messages.
set -u
source "$(dirname "$0")/../lib/registry.sh"
source "$TESTLIB/images.sh"

W=$(tmpdir_new proto)
sk() { timeout 120 skopeo --insecure-policy "$@"; }
b() { timeout 300 "$BOSUN" "$@"; }

cat >"$W/oddproxy.py" <<'PY'
import argparse, base64, hashlib, http.client, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--listen", type=int, required=True)
ap.add_argument("--upstream", required=True)
ap.add_argument("--mode", required=True)   # refuse-monolithic redirect storage corrupt liar huge
ap.add_argument("--storage", default="")   # host:port blobs are redirected to
ap.add_argument("--creds", default="")     # storage mode: user:pass for the upstream
ap.add_argument("--log", required=True)
a = ap.parse_args()
lock = threading.Lock()
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}

def log(line):
    with lock, open(a.log, "a") as f:
        f.write(line + "\n")

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass

    def body_in(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send(self, status, headers, body):
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in HOP and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def upstream(self, method, path, body, headers):
        c = http.client.HTTPConnection(a.upstream, timeout=60)
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read() if method != "HEAD" else b""
        hs = r.getheaders()
        c.close()
        return r.status, hs, data

    def handle_any(self):
        body = self.body_in()
        p, m = self.path, self.command
        auth = "AUTH" if self.headers.get("Authorization") else "noauth"
        log(f"{m} {p} {auth}")
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        if a.mode == "storage":
            # another origin: fetch from the registry with our own credentials
            h = {}
            if a.creds:
                h["Authorization"] = "Basic " + base64.b64encode(a.creds.encode()).decode()
            st, hs, data = self.upstream("GET", p.replace("/storage", "", 1), None, h)
            return self.send(st, [x for x in hs if x[0].lower() in ("content-type",)], data)
        if a.mode == "refuse-monolithic" and m == "PUT" and "/blobs/uploads/" in p and body:
            log("REFUSED")
            return self.send(413, [("Content-Type", "text/plain")], b"request entity too large")
        if a.mode == "redirect" and m in ("GET", "HEAD") and "/blobs/sha256:" in p:
            return self.send(307, [("Location", f"http://{a.storage}/storage{p}")], b"")
        if a.mode == "huge" and m == "GET" and "/manifests/" in p:
            big = b"{" + b" " * (5 << 20) + b"}"
            return self.send(200, [("Content-Type", "application/vnd.oci.image.manifest.v1+json")], big)
        st, hs, data = self.upstream(m, p, body, hdrs)
        if a.mode == "corrupt" and m == "GET" and "/blobs/sha256:" in p and st == 200 and len(data) > 100:
            data = data[:50] + bytes([data[50] ^ 1]) + data[51:]
        if a.mode == "liar" and "/manifests/" in p and st == 200:
            hs = [(k, v) for k, v in hs if k.lower() != "docker-content-digest"]
            hs.append(("Docker-Content-Digest", "sha256:" + hashlib.sha256(b"lie").hexdigest()))
        self.send(st, hs, data)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any

ThreadingHTTPServer(("127.0.0.1", a.listen), H).serve_forever()
PY

# oddproxy_start MODE [ARGS...]: a proxy in front of $REG; sets ODD, ODD_LOG
oddproxy_start() {
	local mode="$1" port
	shift
	port=$(free_port)
	ODD_LOG="$W/odd-$mode-$port.log"
	: >"$ODD_LOG"
	"$PYTHON" "$W/oddproxy.py" --listen "$port" --upstream "$REG" --mode "$mode" --log "$ODD_LOG" "$@" \
		>"$W/odd-$mode-$port.err" 2>&1 &
	at_exit "kill_wait $!"
	wait_port "$port" 10 || { echo "Bail out! oddproxy $mode did not start"; exit 1; }
	ODD="127.0.0.1:$port"
}

no_tmp_files() { ! ls "$1"/blobs/sha256/ 2>/dev/null | grep -q tmp; }

make_busybox_oci "$W/bb" 1.0 >/dev/null
bb_digest=$IMG_MANIFEST_DIGEST
# one 20 MiB layer: two PATCH chunks when monolithic uploads are refused
make_multilayer_oci "$W/big" 1 20 v1 >/dev/null
big_digest=$IMG_MANIFEST_DIGEST

# ---------------------------------------------------------------- open registry
registry_start_open

oddproxy_start refuse-monolithic
expect_exit 0 "chunked upload when the registry refuses a monolithic PUT" b -q copy "oci:$W/big:v1" "$ODD/chunk/big:v1"
[ "$(tail -1 <<<"$OUT")" = "$big_digest" ] && ok "chunked push prints the image digest" || fail "chunked push prints the image digest" "$OUT"
n_patch=$(grep -c '^PATCH ' "$ODD_LOG")
[ "$n_patch" -ge 2 ] && grep -q REFUSED "$ODD_LOG" && ok "the layer went up in $n_patch PATCH chunks" ||
	fail "chunks were used" "$(cat "$ODD_LOG")"
check "skopeo reads the chunked upload" sk copy --src-tls-verify=false "docker://$REG/chunk/big:v1" "oci:$W/sk-chunk:x"

check "seed an image" sk copy --dest-tls-verify=false "oci:$W/bb:1.0" "docker://$REG/seed/bb:1"

oddproxy_start corrupt
expect_exit 3 "a corrupt blob is bad input (exit 3)" b -q copy --retries 1 "$ODD/seed/bb:1" "oci:$W/corrupt:x"
grep -q "digest mismatch" <<<"$OUT" && ok "the message says digest mismatch" || fail "digest mismatch message" "$OUT"
no_tmp_files "$W/corrupt" && ok "no temporary blob left behind" || fail "no temporary blob left behind" "$(ls -la "$W/corrupt/blobs/sha256")"

oddproxy_start liar
expect_exit 3 "a Docker-Content-Digest that does not match is bad input" b -q inspect "$ODD/seed/bb:1"

oddproxy_start huge
expect_exit 3 "a manifest over 4 MiB is refused" b -q inspect "$ODD/seed/bb:1"
grep -q "exceeds" <<<"$OUT" && ok "the message names the cap" || fail "the message names the cap" "$OUT"

expect_exit 4 "a missing tag is a registry error" b -q inspect --retries 1 "$REG/seed/bb:nope"
grep -q "MANIFEST_UNKNOWN" <<<"$OUT" && grep -q "$REG" <<<"$OUT" && ok "the message carries the registry and its error code" ||
	fail "the message carries the registry and its error code" "$OUT"

# Plain HTTP is for loopback names and --insecure-registry hosts only.
# 0177.0.0.1 is 127.0.0.1 to the resolver but not a loopback name to bosun.
odd_host="0177.0.0.1:${REG#*:}"
expect_exit 4 "no plain-HTTP fallback for other hosts" b -q inspect --retries 0 "$odd_host/seed/bb:1"
grep -q -- "--insecure-registry" <<<"$OUT" && ok "the message points at --insecure-registry" || fail "hint" "$OUT"
expect_exit 0 "--insecure-registry allows plain HTTP" b -q inspect --insecure-registry "$odd_host" "$odd_host/seed/bb:1"

# --------------------------------------------------------------- Basic + redirect
registry_start_basic alice "pw-$RANDOM-secret"
sk copy --dest-tls-verify=false --dest-creds "alice:$REG_PASS" "oci:$W/bb:1.0" "docker://$REG/redir/bb:1" >/dev/null 2>&1
oddproxy_start storage --creds "alice:$REG_PASS"
storage=$ODD storage_log=$ODD_LOG
oddproxy_start redirect --storage "$storage"
expect_exit 0 "pull with blobs redirected to another host" b -q copy --creds "alice:$REG_PASS" "$ODD/redir/bb:1" "oci:$W/redir:x"
[ "$(tail -1 <<<"$OUT")" = "$bb_digest" ] && ok "redirected pull has the right digest" || fail "redirected pull has the right digest" "$OUT"
grep -q '^GET /storage/v2/redir/bb/blobs/sha256:' "$storage_log" && ok "blobs came from the storage host" ||
	fail "blobs came from the storage host" "$(cat "$storage_log")"
! grep -q ' AUTH$' "$storage_log" && ok "Authorization never sent to the storage host" ||
	fail "Authorization never sent to the storage host" "$(cat "$storage_log")"
grep -q '/manifests/1 AUTH$' "$ODD_LOG" && ok "Authorization sent to the registry itself" || fail "Authorization sent to the registry" "$(cat "$ODD_LOG")"

# ------------------------------------------------------------ token auth + mount
registry_start_token bob "tok-$RANDOM-pw"
expect_exit 0 "token auth push" b -q copy --creds "bob:$REG_PASS" "oci:$W/bb:1.0" "$REG/team/base:1"
: >"$TOKEN_LOG"
expect_exit 0 "copy to another repository mounts the blobs" b copy --creds "bob:$REG_PASS" "$REG/team/base:1" "$REG/team/app:1"
grep -q "mounted" <<<"$OUT" && ok "blobs were mounted, not uploaded" || fail "blobs were mounted" "$OUT"
grep -q 'repository:team/app:pull,push repository:team/base:pull' "$TOKEN_LOG" &&
	ok "one token asked for both repositories" || fail "one token asked for both repositories" "$(cat "$TOKEN_LOG")"

# an identity token from a credential helper (Username "<token>")
mkdir -p "$W/bin" "$W/cfg"
cat >"$W/bin/docker-credential-odd" <<EOF
#!/bin/sh
read -r server
[ "\$server" = "$REG" ] || { echo "credentials not found in native keychain"; exit 1; }
printf '{"ServerURL":"%s","Username":"<token>","Secret":"%s"}\n' "\$server" "\$(cat '$TOKEN_REFRESH_FILE')"
EOF
chmod +x "$W/bin/docker-credential-odd"
printf '{"credHelpers":{"%s":"odd"}}\n' "$REG" >"$W/cfg/config.json"
: >"$TOKEN_LOG"
expect_exit 0 "identity token from a credential helper" env DOCKER_CONFIG="$W/cfg" PATH="$W/bin:$PATH" "$BOSUN" -q inspect "$REG/team/app:1"
grep -q 'POST /token grant_type=refresh_token' "$TOKEN_LOG" && ok "the refresh-token grant was used" ||
	fail "the refresh-token grant was used" "$(cat "$TOKEN_LOG")"
for f in "$W"/*.log; do
	grep -q -e "$REG_PASS" -e "$(cat "$TOKEN_REFRESH_FILE")" "$f" && fail "no secret in $f"
done

# re-push of existing blobs is quick (HEADs in parallel)
start=$(date +%s%N)
expect_exit 0 "re-push" b -q copy --creds "bob:$REG_PASS" "oci:$W/bb:1.0" "$REG/team/base:1"
ms=$((($(date +%s%N) - start) / 1000000))
[ "$ms" -lt 2000 ] && ok "re-push took $ms ms" || fail "re-push took $ms ms"

finish
