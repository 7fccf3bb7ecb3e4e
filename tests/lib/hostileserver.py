#!/usr/bin/python3
"""Hostile registry and token servers for tests/e2e/80_hostile.sh.

One process, one listener per mode, each on 127.0.0.1 with a port the
kernel picks (mode `token-host2` listens on 127.0.0.2: another host).
`--ports FILE` receives one line "MODE PORT" per listener, then "ready".
Every mode serves one repository, any name, tag or digest.

Registry modes (/v2/ answers 200 unless the mode is about auth):
  manifest-endless   manifest GET: 200, OCI content type, no Content-Length,
                     bytes until the client hangs up
  manifest-hugecl    the same with Content-Length: 1 PB
  manifest-chunked   the same, chunked transfer coding
  blob-endless       a valid manifest and config; the layer is served as its
                     real bytes followed by bytes without end
  blob-hugecl        the same with Content-Length: 1 TB
  config-endless     a valid manifest; the config blob never ends
Auth modes (/v2/ and every API path answer 401 with a Bearer challenge):
  token-1gb          the realm answers a 1 GB JSON-ish body (Content-Length set)
  token-endless      the realm answers a body without end or length
  wwwauth-huge       the challenge is one 1 MiB header
  wwwauth-many       36 WWW-Authenticate headers of 8000 bytes each
  wwwauth-garbage    a challenge of control bytes and broken quoting
  realm-file         realm="file:///etc/passwd"
  realm-gopher       realm="gopher://127.0.0.1:PORT/1"
  realm-redirect-file  the realm answers 302 to file:///etc/passwd
  realm-redirect-host  the realm answers 302 to token-host2 (127.0.0.2);
                     once a token is presented the image is served normally
  token-host2        a token endpoint on another host

--log FILE gets one line per request: MODE METHOD PATH STATUS sent=BYTES
auth=yes|no. It never holds a header value (no secret reaches it).
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import socket
import sys
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNK = 64 * 1024
# Bytes an "endless" body stops at even if the client never hangs up, so a
# broken client cannot keep the test machine busy for ever (about 2 minutes
# of loopback traffic; the test's timeout guard fires long before).
ENDLESS_CAP = 256 << 30
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
AUTH_MODES = {"token-1gb", "token-endless", "wwwauth-huge", "wwwauth-many", "wwwauth-garbage",
              "realm-file", "realm-gopher", "realm-redirect-file", "realm-redirect-host"}
ALL_MODES = ["manifest-endless", "manifest-hugecl", "manifest-chunked", "blob-endless",
             "blob-hugecl", "config-endless"] + sorted(AUTH_MODES) + ["token-host2"]


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def make_image():
    """A one-layer image: a tar with one small file, gzip, config, manifest."""
    t = io.BytesIO()
    with tarfile.open(fileobj=t, mode="w", format=tarfile.PAX_FORMAT) as tf:
        data = b"hostile server layer\n"
        ti = tarfile.TarInfo("etc/hostile-server")
        ti.size, ti.mode, ti.mtime = len(data), 0o644, 0
        tf.addfile(ti, io.BytesIO(data))
    tar = t.getvalue()
    layer = gzip.compress(tar, mtime=0)
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Cmd": ["/bin/sh"]},
                         "rootfs": {"type": "layers", "diff_ids": [sha(tar)]},
                         "history": [{"created_by": "hostileserver"}]}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": MT_MANIFEST,
                           "config": {"mediaType": MT_CONFIG, "digest": sha(config), "size": len(config)},
                           "layers": [{"mediaType": MT_LAYER, "digest": sha(layer), "size": len(layer)}]}).encode()
    return manifest, config, layer


MANIFEST, CONFIG, LAYER = make_image()
ISSUED_TOKEN = "hostile-token-" + os.urandom(8).hex()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hostileserver"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def log_req(self, status, sent):
        srv = self.server
        line = "%s %s %s %s sent=%d auth=%s\n" % (
            srv.mode, self.command, self.path.split("?")[0][:200], status, sent,
            "yes" if self.headers.get("Authorization") else "no")
        with srv.log_lock:
            with open(srv.log_path, "a") as f:
                f.write(line)

    # ------------------------------------------------------------ helpers

    def send_fixed(self, status, body, ctype="application/json", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        sent = 0
        if self.command != "HEAD":
            self.wfile.write(body)
            sent = len(body)
        self.log_req(status, sent)

    def send_endless(self, ctype, prefix=b"", clen=None, chunked=False, fill=b"A"):
        """200, then prefix, then fill bytes until the client hangs up."""
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        if clen is not None:
            self.send_header("Content-Length", str(clen))
        elif chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        sent = 0
        block = fill * (CHUNK // len(fill))
        limit = clen if clen is not None else ENDLESS_CAP
        if self.command == "HEAD":
            self.log_req(200, 0)
            return
        try:
            data = prefix
            while sent < limit:
                if not data:
                    data = block
                if len(data) > limit - sent:
                    data = data[:limit - sent]
                if chunked:
                    self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
                else:
                    self.wfile.write(data)
                sent += len(data)
                data = b""
        except (BrokenPipeError, ConnectionResetError, socket.timeout, OSError):
            pass
        self.log_req(200, sent)

    def challenge(self):
        port = self.server.server_address[1]
        mode = self.server.mode
        realm = "http://127.0.0.1:%d/token" % port
        hdrs = []
        if mode == "wwwauth-huge":
            hdrs = [("WWW-Authenticate", 'Bearer realm="%s",service="x",scope="%s"' % (realm, "s" * (1 << 20)))]
        elif mode == "wwwauth-many":
            # each under bosun's 8 KiB per-value cap, together under curl's
            # 300 KiB for all headers: bosun joins them all
            one = 'Bearer realm="%s",service="%s"' % (realm, "m" * 7900)
            hdrs = [("WWW-Authenticate", one)] * 36
        elif mode == "wwwauth-garbage":
            hdrs = [("WWW-Authenticate", 'Bearer realm="\x01\x02\x7f, =,,=" "" realm service=\\"')]
        elif mode == "realm-file":
            hdrs = [("WWW-Authenticate", 'Bearer realm="file:///etc/passwd",service="x"')]
        elif mode == "realm-gopher":
            hdrs = [("WWW-Authenticate", 'Bearer realm="gopher://127.0.0.1:%d/1",service="x"' % port)]
        else:
            hdrs = [("WWW-Authenticate", 'Bearer realm="%s",service="hostile"' % realm)]
        body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
        self.send_fixed(401, body, extra=hdrs)

    def serve_image(self, endless_layer=False, hugecl_layer=False, endless_config=False):
        p = self.path.split("?")[0]
        if p == "/v2/" or p == "/v2":
            return self.send_fixed(200, b"{}")
        if "/manifests/" in p:
            return self.send_fixed(200, MANIFEST, MT_MANIFEST, [("Docker-Content-Digest", sha(MANIFEST))])
        if "/blobs/" in p:
            dg = p.rsplit("/", 1)[1]
            if dg == sha(CONFIG):
                if endless_config:
                    return self.send_endless("application/octet-stream", prefix=CONFIG)
                return self.send_fixed(200, CONFIG, "application/octet-stream")
            if dg == sha(LAYER):
                if endless_layer:
                    return self.send_endless("application/octet-stream", prefix=LAYER)
                if hugecl_layer:
                    return self.send_endless("application/octet-stream", prefix=LAYER, clen=1 << 40)
                return self.send_fixed(200, LAYER, "application/octet-stream")
        return self.send_fixed(404, b'{"errors":[{"code":"NOT_FOUND","message":"unknown"}]}')

    # ----------------------------------------------------------- dispatch

    def do_HEAD(self):
        self.do_GET()

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(min(n, 1 << 20))
        self.do_GET()

    def do_GET(self):
        mode = self.server.mode
        p = self.path.split("?")[0]
        if mode == "manifest-endless" or mode == "manifest-hugecl" or mode == "manifest-chunked":
            if p.rstrip("/") == "/v2":
                return self.send_fixed(200, b"{}")
            if "/manifests/" in p:
                prefix = b'{"schemaVersion":2,"mediaType":"%s","annotations":{"pad":"' % MT_MANIFEST.encode()
                if mode == "manifest-hugecl":
                    return self.send_endless(MT_MANIFEST, prefix, clen=1 << 50)
                return self.send_endless(MT_MANIFEST, prefix, chunked=mode == "manifest-chunked")
            return self.send_fixed(404, b"{}")
        if mode == "blob-endless":
            return self.serve_image(endless_layer=True)
        if mode == "blob-hugecl":
            return self.serve_image(hugecl_layer=True)
        if mode == "config-endless":
            return self.serve_image(endless_config=True)
        if mode == "token-host2":
            if p == "/token":
                return self.send_fixed(200, json.dumps({"token": ISSUED_TOKEN, "expires_in": 300}).encode())
            return self.send_fixed(404, b"{}")
        # auth modes
        if p == "/token":
            if mode == "token-1gb":
                return self.send_endless("application/json", b'{"token":"', clen=1 << 30)
            if mode == "token-endless":
                return self.send_endless("application/json", b'{"token":"')
            if mode == "realm-redirect-file":
                return self.send_fixed(302, b"", extra=[("Location", "file:///etc/passwd")])
            if mode == "realm-redirect-host":
                loc = "http://127.0.0.2:%d/token" % self.server.host2_port
                return self.send_fixed(302, b"", extra=[("Location", loc)])
            return self.send_fixed(404, b"{}")
        if mode == "realm-redirect-host" and self.headers.get("Authorization") == "Bearer " + ISSUED_TOKEN:
            return self.serve_image()
        return self.challenge()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ports", required=True, help="file to write 'MODE PORT' lines to")
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    open(a.log, "w").close()
    lock = threading.Lock()
    servers = {}
    for mode in ALL_MODES:
        host = "127.0.0.2" if mode == "token-host2" else "127.0.0.1"
        s = ThreadingHTTPServer((host, 0), Handler)
        s.daemon_threads = True
        s.mode, s.log_path, s.log_lock = mode, a.log, lock
        servers[mode] = s
    for s in servers.values():
        s.host2_port = servers["token-host2"].server_address[1]
    with open(a.ports + ".tmp", "w") as f:
        for mode, s in servers.items():
            f.write("%s %d\n" % (mode, s.server_address[1]))
        f.write("ready\n")
    os.rename(a.ports + ".tmp", a.ports)
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers.values()]
    for t in threads:
        t.start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
