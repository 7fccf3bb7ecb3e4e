#!/usr/bin/env bash
# ADD URL goes through the registry layer's downloader: a server that
# answers 503 a few times is retried, a missing file is a located network
# error (exit 4), and a body larger than the layer size limit
# (BOSUN_MAX_LAYER_SIZE) is refused as bad input (exit 3) before it fills
# the disk.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

T="$(tmpdir_new addurl)"
C="$T/ctx"
mkdir -p "$C"
PORT="$(free_port)"
cat >"$T/server.py" <<'PY'
import http.server, sys
hits = {}
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *a):
        with open(sys.argv[2], "a") as f:
            f.write("%s %s\n" % (self.command, self.path))
    def do_GET(self):
        n = hits[self.path] = hits.get(self.path, 0) + 1
        if self.path == "/flaky" and n <= 2:
            self.send_response(503); self.send_header("Content-Length", "0"); self.end_headers(); return
        if self.path in ("/flaky", "/ok"):
            body = b"flaky content\n"
        elif self.path == "/big":
            body = b"x" * (3 << 20)
        else:
            self.send_response(404); self.send_header("Content-Length", "0"); self.end_headers(); return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
"$PYTHON" "$T/server.py" "$PORT" "$T/http.log" &
HTTP_PID=$!
at_exit "kill_wait $HTTP_PID"
wait_port "$PORT"
URL="http://127.0.0.1:$PORT"

# The content of PATH in the image at oci:DIR (its only layer).
layer_file() {
	local dir=$1 path=$2 man lay
	man=$(python3 -c 'import json,sys; i=json.load(open(sys.argv[1]+"/index.json")); print(i["manifests"][0]["digest"].split(":")[1])' "$dir")
	lay=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]+"/blobs/sha256/"+sys.argv[2])); print(m["layers"][-1]["digest"].split(":")[1])' "$dir" "$man")
	tar -xOf "$dir/blobs/sha256/$lay" "$path"
}

printf '%s\n' "FROM scratch" "ADD $URL/flaky /got" >"$C/Dockerfile"
expect_exit 0 "ADD URL: a server answering 503 twice is retried" "$BOSUN" build --output oci:"$T/out" "$C"
[ "$(grep -c '^GET /flaky' "$T/http.log")" -eq 3 ] && ok "three requests for the flaky URL" ||
	fail "requests for the flaky URL" "$(cat "$T/http.log")"
[ "$(layer_file "$T/out" got)" = "flaky content" ] && ok "the retried download is in the layer" ||
	fail "layer content" "$(layer_file "$T/out" got 2>&1 | head -c 200)"

printf '%s\n' "FROM scratch" "ADD $URL/missing /got" >"$C/Dockerfile"
expect_exit 4 "ADD URL: HTTP 404 exits 4" "$BOSUN" build "$C"
expect_out "the 404 is located and names the URL" "Dockerfile:2:1: add: download: $URL/missing: HTTP 404"
[ "$(grep -c '^GET /missing' "$T/http.log")" -eq 1 ] && ok "a 404 is not retried" ||
	fail "a 404 was retried" "$(cat "$T/http.log")"

printf '%s\n' "FROM scratch" "ADD $URL/big /got" >"$C/Dockerfile"
OUT="$(BOSUN_MAX_LAYER_SIZE=1M "$BOSUN" build "$C" 2>&1)" && RC=0 || RC=$?
[ "$RC" -eq 3 ] && ok "ADD URL larger than BOSUN_MAX_LAYER_SIZE exits 3" || fail "big download: exit $RC" "$OUT"
expect_out "the size error says so" "Dockerfile:2:1: add: download: .*larger than the 1048576-byte limit"
expect_exit 0 "the same download within the default limit" "$BOSUN" build "$C"

finish
