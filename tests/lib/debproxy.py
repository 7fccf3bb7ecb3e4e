#!/usr/bin/env python3
"""A small caching HTTP proxy for the real-world suite, on 127.0.0.1.

    debproxy.py PORT_FILE DEB_CACHE RUN_CACHE

Both builds of one Dockerfile (bosun's and buildah's) fetch the same Debian
packages; passed as the build argument http_proxy, this proxy lets the
second build (and the next run of the suite) take them from disk:

  - GET http://HOST/.../pool/....deb: kept in DEB_CACHE (a pool file never
    changes under its name: a new version is a new name);
  - any other plain GET (Release, Packages indices): kept in RUN_CACHE, a
    directory of this run only, so both builds of a run see the same
    indices and the next run asks the archive again;
  - CONNECT (npm's HTTPS registry): a plain tunnel, nothing kept.

Listens on an ephemeral port and writes it to PORT_FILE once ready.
Standard library only."""
import hashlib
import http.client
import http.server
import os
import select
import signal
import socket
import sys
import tempfile
import threading
import urllib.parse

DEB_CACHE, RUN_CACHE = sys.argv[2], sys.argv[3]
LOCK = threading.Lock()
STATS = {"hit": 0, "miss": 0, "tunnel": 0}


def cache_path(url):
    u = urllib.parse.urlsplit(url)
    if u.path.endswith(".deb") and "/pool/" in u.path:
        return os.path.join(DEB_CACHE, u.netloc + "_" + os.path.basename(u.path))
    return os.path.join(RUN_CACHE, hashlib.sha256(url.encode()).hexdigest())


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_file(self, path, head_only=False):
        size = os.path.getsize(path)
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        if head_only:
            return
        with open(path, "rb") as f:
            while True:
                b = f.read(1 << 16)
                if not b:
                    break
                self.wfile.write(b)

    def do_GET(self, head_only=False):
        url = self.path
        u = urllib.parse.urlsplit(url)
        if u.scheme != "http" or not u.netloc:
            self.send_error(400, "proxy requests only")
            return
        path = cache_path(url)
        if os.path.exists(path):
            with LOCK:
                STATS["hit"] += 1
            self.send_file(path, head_only)
            return
        with LOCK:
            STATS["miss"] += 1
        try:
            c = http.client.HTTPConnection(u.netloc, timeout=60)
            c.request("GET", u.path + ("?" + u.query if u.query else ""), headers={"User-Agent": "bosun-test-proxy"})
            r = c.getresponse()
        except OSError as e:
            self.send_error(502, "upstream: %s" % e)
            return
        if r.status != 200:
            body = r.read()
            self.send_response(r.status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head_only:
                self.wfile.write(body)
            c.close()
            return
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".part.")
        try:
            with os.fdopen(fd, "wb") as f:
                while True:
                    b = r.read(1 << 16)
                    if not b:
                        break
                    f.write(b)
            n = r.getheader("Content-Length")
            if n is not None and int(n) != os.path.getsize(tmp):
                raise OSError("short read from upstream")
            os.rename(tmp, path)
        except OSError as e:
            os.unlink(tmp)
            self.send_error(502, "upstream: %s" % e)
            return
        finally:
            c.close()
        self.send_file(path, head_only)

    def do_HEAD(self):
        self.do_GET(head_only=True)

    def do_CONNECT(self):
        host, _, port = self.path.rpartition(":")
        try:
            up = socket.create_connection((host, int(port)), timeout=60)
        except (OSError, ValueError) as e:
            self.send_error(502, "connect: %s" % e)
            return
        with LOCK:
            STATS["tunnel"] += 1
        self.send_response(200, "Connection established")
        self.end_headers()
        self.close_connection = True
        socks = [self.connection, up]
        try:
            while True:
                rd, _, _ = select.select(socks, [], [], 120)
                if not rd:
                    break
                for s in rd:
                    b = s.recv(1 << 16)
                    if not b:
                        return
                    (up if s is self.connection else self.connection).sendall(b)
        except OSError:
            pass
        finally:
            up.close()


def main():
    os.makedirs(DEB_CACHE, exist_ok=True)
    os.makedirs(RUN_CACHE, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, sys.argv[1])
    try:
        srv.serve_forever()
    finally:
        print("debproxy: %(hit)d hits, %(miss)d misses, %(tunnel)d tunnels" % STATS, file=sys.stderr)


if __name__ == "__main__":
    main()
