#!/usr/bin/env bash
# bosun db update (OSV dumps over HTTP with conditional requests, from a
# local python3 http.server), db push / pull as an OCI artifact through a
# local registry (skopeo as the oracle for the manifest), and scan with the
# cached / pulled database.
set -u
. "$(dirname "$0")/../lib/registry.sh"

T=$(tmpdir_new dbsync)
GOZIP="$SHARED/data/vulndata/osv-go-all.zip"
export XDG_CACHE_HOME="$T/xdg"

# ---- feeds: the real Go dump, and a small npm dump written here
mkdir -p "$T/www/Go" "$T/www/npm" "$T/rec"
cp "$GOZIP" "$T/www/Go/all.zip"
cat >"$T/rec/GHSA-test-0001.json" <<'J'
{"id":"GHSA-test-0001","modified":"2024-01-01T00:00:00Z","summary":"prototype pollution in leftpad-test",
 "aliases":["CVE-2099-0001"],"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
 "affected":[{"package":{"ecosystem":"npm","name":"leftpad-test"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.3.0"}]}]}]}
J
(cd "$T/rec" && zip -q "$T/www/npm/all.zip" GHSA-test-0001.json)

# A server that honours If-None-Match / If-Modified-Since and logs each
# request's status.
cat >"$T/server.py" <<'PY'
import http.server, sys, os, functools
class H(http.server.SimpleHTTPRequestHandler):
    def end_headers(self):
        if self.path.endswith(".zip") and getattr(self, "_etag", None):
            self.send_header("ETag", self._etag)
        super().end_headers()
    def send_head(self):
        p = self.translate_path(self.path)
        if os.path.isfile(p):
            st = os.stat(p)
            self._etag = '"%x-%x"' % (st.st_mtime_ns, st.st_size)
            if self.headers.get("If-None-Match") == self._etag:
                self.send_response(304); self.end_headers(); return None
        return super().send_head()
    def log_message(self, fmt, *a):
        sys.stderr.write("%s %s\n" % (self.requestline, a[1] if len(a) > 1 else "")); sys.stderr.flush()
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), functools.partial(H, directory=sys.argv[2])).serve_forever()
PY
PORT=$(free_port)
"$PYTHON" "$T/server.py" "$PORT" "$T/www" 2>"$T/http.log" &
HTTP_PID=$!
at_exit "kill_wait $HTTP_PID"
wait_port "$PORT" || { fail "http server did not start" "$(cat "$T/http.log")"; finish; }
URL="http://127.0.0.1:$PORT"

# ---- no database yet: scan says what to do, exit 3
mkdir -p "$T/root"
expect_exit 3 "scan without any database exits 3" "$BOSUN" scan --skip-db-update "dir:$T/root"
expect_out "tells the user to run db update" "run 'bosun db update'"

# ---- first update downloads, builds
check "db update (first)" "$BOSUN" db update --osv-url "$URL" --ecosystem Go,npm
expect_out "Go downloaded" '^Go: downloaded [0-9]+ bytes'
expect_out "npm downloaded" '^npm: downloaded [0-9]+ bytes'
expect_out "db rebuilt with every Go record and the npm one" 'vuln.db: 4275 records \(17 withdrawn dropped, 0 rejected\)'
DB="$XDG_CACHE_HOME/bosun/db/vuln.db"
[ -f "$DB" ] && ok "database kept in \$XDG_CACHE_HOME/bosun/db" || fail "cached database missing"
cmp -s "$GOZIP" "$XDG_CACHE_HOME/bosun/db/osv/Go/all.zip" && ok "Go feed cached byte for byte" || fail "cached feed differs"
n200=$(grep -c 'GET /Go/all.zip HTTP/1.1 200' "$T/http.log")

# ---- second update: conditional, 304, no rebuild
check "db update (second)" "$BOSUN" db update --osv-url "$URL" --ecosystem Go,npm
expect_out "Go not modified" '^Go: not modified'
expect_out "npm not modified" '^npm: not modified'
expect_out "database left alone" 'up to date'
grep -q 'GET /Go/all.zip HTTP/1.1 304' "$T/http.log" && ok "server log shows a 304 for the Go feed" || fail "no 304 in server log" "$(cat "$T/http.log")"
[ "$(grep -c 'GET /Go/all.zip HTTP/1.1 200' "$T/http.log")" -eq "$n200" ] && ok "Go feed not downloaded twice" || fail "Go feed downloaded again"

# ---- a changed feed is downloaded again, env var names the URL
sleep 1; touch "$T/www/npm/all.zip"
BOSUN_OSV_URL="$URL" check "db update after npm changed (BOSUN_OSV_URL)" env BOSUN_OSV_URL="$URL" "$BOSUN" db update --ecosystem Go,npm
expect_out "npm downloaded again" '^npm: downloaded'
expect_out "Go still not modified" '^Go: not modified'
expect_out "rebuilt" 'vuln.db: 4275 records'

# ---- a feed downloaded but never built into the database (a build that
# failed, a crash): the next update rebuilds although the server says 304
touch "$XDG_CACHE_HOME/bosun/db/osv/Go/all.zip"
check "db update after an unbuilt download" "$BOSUN" db update --osv-url "$URL" --ecosystem Go,npm
expect_out "server says not modified" '^Go: not modified'
expect_out "but the database is rebuilt" 'vuln.db: 4275 records'

# ---- missing feed, unreachable server: exit 4, database untouched
expect_exit 4 "a feed the server does not have exits 4" "$BOSUN" db update --osv-url "$URL" --ecosystem NoSuchEco --retries 0
expect_out "names the feed and the status" 'NoSuchEco feed: .*HTTP 404'
DEAD=$(free_port)
expect_exit 4 "an unreachable server exits 4" "$BOSUN" db update --osv-url "http://127.0.0.1:$DEAD" --ecosystem Go --retries 0
"$BOSUN" db info >"$T/info.txt" 2>&1 && grep -q '"records":4275' "$T/info.txt" && ok "db info (no FILE) reads the cached database" || fail "db info cached" "$(cat "$T/info.txt")"

# ---- scan with the cached database (no --db)
mkdir -p "$T/root/app/node_modules/leftpad-test"
printf '{"name":"leftpad-test","version":"1.2.0"}' >"$T/root/app/node_modules/leftpad-test/package.json"
expect_exit 1 "scan with the cached db finds the npm advisory" "$BOSUN" scan --skip-db-update --fail-on HIGH --format json "dir:$T/root"
expect_out "GHSA-test-0001 found" '"id":[[:space:]]*"GHSA-test-0001"'
expect_exit 0 "--db-max-age 0 disables the age check" "$BOSUN" scan --db-max-age 0 --skip-db-update "dir:$T/root"
"$PYTHON" - "$DB" "$T/old.db" <<'PY'
import shutil, sqlite3, sys
shutil.copy(sys.argv[1], sys.argv[2]); c = sqlite3.connect(sys.argv[2])
c.execute("update meta set value='2020-01-01T00:00:00Z' where key='built'"); c.commit()
PY
cp "$DB" "$T/good.db" && cp "$T/old.db" "$DB"
expect_exit 3 "a cached db older than --db-max-age is refused" "$BOSUN" scan --skip-db-update --db-max-age 30d "dir:$T/root"
expect_out "says to run db update" "older than --db-max-age \(30d\); run 'bosun db update'"
cp "$T/good.db" "$DB"

# ---- push / pull through a registry
registry_start_open
check "db push" "$BOSUN" db push --db "$T/good.db" "$REG/sec/bosun-db:1"
expect_out "prints the manifest digest" 'pushed .* \(sha256:[0-9a-f]{64}\)'
skopeo inspect --raw --tls-verify=false "docker://$REG/sec/bosun-db:1" >"$T/man.json" 2>"$T/skopeo.err" && ok "skopeo reads the artifact manifest" || fail "skopeo inspect" "$(cat "$T/skopeo.err")"
"$PYTHON" - "$T/man.json" "$T/good.db" <<'PY' && ok "manifest: artifactType, config and one sqlite layer with the file's digest" || fail "artifact manifest" "$(cat "$T/man.json")"
import hashlib, json, os, sys
m = json.load(open(sys.argv[1])); db = open(sys.argv[2], "rb").read()
assert m["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
assert m["artifactType"] == "application/vnd.bosun.vulndb.v1"
assert m["config"]["mediaType"] == "application/vnd.bosun.vulndb.config.v1+json"
assert len(m["layers"]) == 1
l = m["layers"][0]
assert l["mediaType"] == "application/vnd.bosun.vulndb.layer.v1.sqlite"
assert l["digest"] == "sha256:" + hashlib.sha256(db).hexdigest() and l["size"] == len(db)
PY
skopeo inspect --raw --config --tls-verify=false "docker://$REG/sec/bosun-db:1" 2>/dev/null | grep -q '"records":4275' \
    && ok "config blob carries the metadata" || fail "config blob"
check "db pull -o" "$BOSUN" db pull -o "$T/pulled.db" "$REG/sec/bosun-db:1"
cmp -s "$T/pulled.db" "$T/good.db" && ok "pulled database is byte-identical" || fail "pulled db differs"
rm -f "$DB"
check "db update --db-repository pulls into the cache" "$BOSUN" db update --db-repository "$REG/sec/bosun-db:1"
cmp -s "$DB" "$T/good.db" && ok "cached db is the pushed one" || fail "cached db after --db-repository"
expect_exit 1 "scan with the pulled db" "$BOSUN" scan --db "$T/pulled.db" --fail-on HIGH --format json "dir:$T/root"
expect_out "finds the npm advisory with the pulled db" 'GHSA-test-0001'
# an image is not a database
"$PYTHON" - "$T/notdb" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]; b = os.path.join(d, "blobs", "sha256"); os.makedirs(b)
def put(x):
    h = hashlib.sha256(x).hexdigest(); open(os.path.join(b, h), "wb").write(x); return "sha256:" + h, len(x)
cd, cs = put(b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}')
md, ms = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs}, "layers": []}).encode())
open(os.path.join(d, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
open(os.path.join(d, "index.json"), "w").write(json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms, "annotations": {"org.opencontainers.image.ref.name": "1"}}]}))
PY
check "push an ordinary image" "$BOSUN" copy "oci:$T/notdb:1" "$REG/sec/notdb:1"
expect_exit 3 "pulling an image that is not a database exits 3" "$BOSUN" db pull -o "$T/x.db" "$REG/sec/notdb:1"
expect_out "says so" 'not a bosun vulnerability database artifact'
[ ! -e "$T/x.db" ] && ok "nothing written on a refused pull" || fail "x.db written"
# a layer that is not SQLite: pushed by hand with the right media types
echo "garbage" >"$T/garbage.db"
"$PYTHON" - "$T/fake" "$T/garbage.db" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]; b = os.path.join(d, "blobs", "sha256"); os.makedirs(b)
def put(x):
    h = hashlib.sha256(x).hexdigest(); open(os.path.join(b, h), "wb").write(x); return "sha256:" + h, len(x)
cd, cs = put(b'{}')
ld, ls = put(open(sys.argv[2], "rb").read())
md, ms = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "artifactType": "application/vnd.bosun.vulndb.v1",
  "config": {"mediaType": "application/vnd.bosun.vulndb.config.v1+json", "digest": cd, "size": cs},
  "layers": [{"mediaType": "application/vnd.bosun.vulndb.layer.v1.sqlite", "digest": ld, "size": ls}]}).encode())
open(os.path.join(d, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
open(os.path.join(d, "index.json"), "w").write(json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms, "annotations": {"org.opencontainers.image.ref.name": "1"}}]}))
PY
skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$T/fake:1" "docker://$REG/sec/fake:1" >"$T/sk.log" 2>&1 || diag "skopeo copy of the fake artifact: $(cat "$T/sk.log")"
cp "$T/good.db" "$DB"
expect_exit 3 "a database artifact whose layer is not SQLite exits 3" "$BOSUN" db update --db-repository "$REG/sec/fake:1"
expect_out "clear message" 'pulled database: .*not a bosun vulnerability database'
cmp -s "$DB" "$T/good.db" && ok "the cached database survives a bad pull" || fail "cached db replaced by garbage"
expect_exit 4 "pull of a missing tag exits 4" "$BOSUN" db pull -o "$T/y.db" "$REG/sec/bosun-db:nope"
finish
