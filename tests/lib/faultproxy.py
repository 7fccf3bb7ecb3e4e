#!/usr/bin/python3
"""Fault-injecting HTTP reverse proxy for bosun's registry tests.

Listens on 127.0.0.1:PORT and forwards every request to --upstream,
streaming bodies both ways in 64 KiB chunks (a 100 MB blob never sits in
memory).  Faults, chosen per request:

  500 502 503  answered by the proxy with a registry-style JSON error; the
               upstream never sees the request
  429          same, with `Retry-After: 1`
  reset        request forwarded; headers and half the body sent, then the
               connection is aborted with an RST (SO_LINGER 0)
  truncate     request forwarded; full Content-Length announced, half the
               body sent, then a normal close
  random       any of the above
  stall        request forwarded; after --stall-after body bytes (of the
               request body when there is one, else of the response body;
               a body not longer than that passes, and the stall waits for
               the next eligible request) the proxy logs the FAULT line and
               holds the connection open,
               sending nothing, for --stall-seconds, then resets it.  A test
               waits for the line and knows the client is in the middle of
               the transfer (e.g. to kill -9 it there).  Not part of random.

Which requests get a fault: those whose path matches --only-path (and
method matches --only-method), after skipping the first --after of them,
with probability --rate (seeded by --seed), until --max-faults faults.
Every fault is logged as a line starting with `FAULT`, to stderr and to
--log, so tests can count them.  With --timestamps every line about a
request ends in ` t=SECONDS` (Unix time of the request's arrival, to the
millisecond), so tests can see how long a client waited before a retry.

`Location` headers pointing at the upstream are rewritten to point at the
proxy, so clients keep going through it for upload sessions.
"""

import argparse
import http.client
import random
import re
import socket
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, urlunsplit

CHUNK = 64 * 1024
STATUS_FAULTS = {"500", "502", "503", "429"}
ALL_FAULTS = ["500", "502", "503", "429", "reset", "truncate"]
EXTRA_FAULTS = ["stall"]
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
              "te", "trailer", "trailers", "transfer-encoding", "upgrade", "proxy-connection"}


class Faults:
    def __init__(self, a):
        modes = []
        for m in a.mode.split(","):
            modes.extend(ALL_FAULTS if m == "random" else [m])
        for m in modes:
            if m not in ALL_FAULTS + EXTRA_FAULTS:
                raise SystemExit(f"faultproxy: unknown mode {m!r}")
        self.modes = modes
        # stall alone is decided once the body is known to be long enough
        self.stall_only = modes == ["stall"]
        self.rate = a.rate if a.rate is not None else (0.3 if "random" in a.mode else 1.0)
        self.rng = random.Random(a.seed)
        self.path_re = re.compile(a.only_path) if a.only_path else None
        self.methods = set(a.only_method.upper().split(",")) if a.only_method else None
        self.after = a.after
        self.max = a.max_faults
        self.seen = 0
        self.injected = 0
        self.lock = threading.Lock()

    def decide(self, method, path):
        """Return (number, mode) for a fault, or None to pass through."""
        if self.path_re and not self.path_re.search(path):
            return None
        if self.methods and method not in self.methods:
            return None
        with self.lock:
            if self.max is not None and self.injected >= self.max:
                return None
            self.seen += 1
            if self.seen <= self.after:
                return None
            # Draw both numbers every time so a seed gives one sequence.
            roll, mode = self.rng.random(), self.rng.choice(self.modes)
            if roll >= self.rate:
                return None
            self.injected += 1
            return self.injected, mode


class Log:
    def __init__(self, path, verbose):
        self.f = open(path, "a", buffering=1) if path else None
        self.verbose = verbose
        self.lock = threading.Lock()
        self.timestamps = False
        self.request = threading.local()  # .arrived: the current request's arrival

    def write(self, line, always=True):
        if not always and not self.verbose:
            return
        arrived = getattr(self.request, "arrived", None)
        if self.timestamps and arrived is not None:
            line = f"{line} t={arrived:.3f}"
        line = f"{line}\n"
        with self.lock:
            if self.f:
                self.f.write(line)
            sys.stderr.write(line)
            sys.stderr.flush()


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bosun-test-faultproxy/1"

    def log_message(self, fmt, *args):  # LOG replaces the default access log
        pass

    # One handler for every method: the proxy must not care.
    def do_GET(self): self.proxy()
    do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    # ---- request side

    def request_body(self):
        """Yield the client's request body in chunks (Content-Length or chunked)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    raise ConnectionError("client closed inside a chunked body")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailers are dropped
                    return
                while size:
                    data = self.rfile.read(min(size, CHUNK))
                    if not data:
                        raise ConnectionError("client closed inside a chunk")
                    size -= len(data)
                    yield data
                self.rfile.readline(1024)
        else:
            left = int(self.headers.get("Content-Length") or 0)
            while left > 0:
                data = self.rfile.read(min(left, CHUNK))
                if not data:
                    raise ConnectionError("client closed inside the body")
                left -= len(data)
                yield data

    def upstream_conn(self):
        S = self.server
        if S.upstream_tls:
            ctx = ssl.create_default_context(cafile=S.upstream_ca)
            if not S.upstream_ca:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            return http.client.HTTPSConnection(S.up_host, S.up_port, timeout=300, context=ctx)
        return http.client.HTTPConnection(S.up_host, S.up_port, timeout=300)

    def has_body(self):
        return ("chunked" in self.headers.get("Transfer-Encoding", "").lower()
                or int(self.headers.get("Content-Length") or 0) > 0)

    def stall(self, n, what):
        """Log the fault, then hold the connection silent until the client
        goes away (killed) or --stall-seconds pass; then reset it."""
        S = self.server
        S.log.write(f"FAULT #{n} stall {self.command} {self.path} after {what}")
        try:
            self.wfile.flush()
        except OSError:
            pass
        end = time.monotonic() + S.stall_seconds
        self.connection.settimeout(0.5)
        while time.monotonic() < end:
            try:
                if self.connection.recv(CHUNK) == b"":
                    break  # the client closed (or died)
            except socket.timeout:
                continue
            except OSError:
                break
        self.abort_rst()

    def stall_body(self, n, mode):
        """request_body, stalling after --stall-after bytes in mode stall."""
        sent = 0
        limit = self.server.stall_after
        for data in self.request_body():
            if mode == "stall" and sent + len(data) > limit:
                head = data[:max(0, limit - sent)]
                if head:
                    yield head
                sent += len(head)
                self.stall(n, f"{sent} request body bytes")
                raise Stalled()
            sent += len(data)
            yield data

    # ---- response side

    def send_json_fault(self, status, n, mode):
        code = {"429": "TOOMANYREQUESTS", "500": "UNKNOWN"}.get(mode, "UNAVAILABLE")
        body = ('{"errors":[{"code":"%s","message":"injected fault #%d (%s)","detail":null}]}'
                % (code, n, mode)).encode()
        self.send_response_only(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Date", self.date_time_string())
        if status == 429:
            self.send_header("Retry-After", "1")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def rewrite_location(self, value):
        u = urlsplit(value)
        if u.scheme in ("http", "https") and u.netloc.lower() in self.server.up_names:
            me = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
            return urlunsplit(("http", me, u.path, u.query, u.fragment))
        return value

    def abort_rst(self):
        """Close with RST.  The pause lets the client read what was sent,
        since an RST can make the peer drop data it has not read yet."""
        try:
            self.wfile.flush()
        except OSError:
            pass
        time.sleep(0.2)
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.rfile.close()  # drop the makefile reference so close() is real
            self.connection.close()
        except OSError:
            pass

    def proxy(self):
        S = self.server
        S.log.request.arrived = time.time()
        method, path = self.command, self.path
        if path.startswith(("http://", "https://")):  # absolute-form request line
            u = urlsplit(path)
            path = urlunsplit(("", "", u.path or "/", u.query, ""))
        self.stall_deferred = False
        if S.faults.stall_only:
            # only a body longer than --stall-after can be stalled in: the
            # request's is known now, the response's once the upstream answers
            if self.has_body():
                te = self.headers.get("Transfer-Encoding", "").lower()
                big = "chunked" in te or int(self.headers.get("Content-Length") or 0) > S.stall_after
                fault = S.faults.decide(method, path) if big else None
            else:
                fault, self.stall_deferred = None, True
        else:
            fault = S.faults.decide(method, path)
        n, mode = fault if fault else (0, None)

        try:
            if mode in STATUS_FAULTS:
                for _ in self.request_body():  # keep the connection usable
                    pass
                S.log.write(f"FAULT #{n} {mode} {method} {path}")
                self.send_json_fault(int(mode), n, mode)
                return

            conn = self.upstream_conn()
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for k, v in self.headers.items():
                lk = k.lower()
                if lk in HOP_BY_HOP or lk in ("host", "expect", "content-length"):
                    continue
                conn.putheader(k, v)
            conn.putheader("Host", S.upstream)
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                conn.putheader("Transfer-Encoding", "chunked")
                conn.endheaders()
                for data in self.stall_body(n, mode):
                    conn.send(b"%x\r\n" % len(data) + data + b"\r\n")
                conn.send(b"0\r\n\r\n")
            elif self.headers.get("Content-Length") is not None:
                conn.putheader("Content-Length", self.headers["Content-Length"])
                conn.endheaders()
                for data in self.stall_body(n, mode):
                    conn.send(data)
            else:
                conn.endheaders()
            resp = conn.getresponse()
        except Stalled:
            conn.close()
            return
        except (OSError, http.client.HTTPException, ValueError) as e:
            S.log.write(f"ERROR {method} {path}: {e}")
            self.close_connection = True
            try:
                self.send_error(502, "proxy: upstream failed")
            except OSError:
                pass
            return

        try:
            self.relay(resp, method, path, n, mode)
        except (OSError, http.client.HTTPException) as e:
            S.log.write(f"ERROR {method} {path} (relaying): {e}", always=False)
            self.close_connection = True
        finally:
            conn.close()

    def relay(self, resp, method, path, n, mode):
        S = self.server
        no_body = method == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200
        length = resp.getheader("Content-Length")
        self.send_response_only(resp.status, resp.reason)
        for k, v in resp.getheaders():
            lk = k.lower()
            if lk in HOP_BY_HOP or lk == "content-length":
                continue
            if lk == "location":
                v = self.rewrite_location(v)
            self.send_header(k, v)

        if self.stall_deferred and not no_body and (length is None or int(length) > S.stall_after):
            fault = S.faults.decide(method, path)
            n, mode = fault if fault else (0, None)
        if no_body or length == "0":
            if mode:  # nothing to cut: lose the whole response instead
                S.log.write(f"FAULT #{n} {mode} {method} {path} (no body: closed before response)")
                self.close_connection = True
                if mode == "reset":
                    self.abort_rst()
                return
            if length is not None:
                self.send_header("Content-Length", length)
            self.end_headers()
            S.log.write(f"PASS {method} {path} -> {resp.status}", always=False)
            return

        if length is not None:
            self.send_header("Content-Length", length)
            framing = "length"
            cut = int(length) // 2
            if mode == "stall":
                cut = min(int(length), S.stall_after)
        elif resp.chunked:
            self.send_header("Transfer-Encoding", "chunked")
            framing = "chunked"
            cut = S.stall_after if mode == "stall" else CHUNK // 2
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
            framing = "eof"
            cut = S.stall_after if mode == "stall" else CHUNK // 2
        self.end_headers()

        sent = 0
        while True:
            want = CHUNK
            if mode:
                want = min(CHUNK, cut - sent)
                if want <= 0:
                    break
            data = resp.read(want)
            if not data:
                break
            if framing == "chunked":
                self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
            else:
                self.wfile.write(data)
            sent += len(data)

        if mode == "stall":
            self.stall(n, f"{sent}{'/' + length if length else ''} response body bytes")
            return
        if mode:
            S.log.write(f"FAULT #{n} {mode} {method} {path} after {sent}"
                        f"{'/' + length if length else ''} body bytes")
            self.close_connection = True
            if mode == "reset":
                self.abort_rst()
            return
        if framing == "chunked":
            self.wfile.write(b"0\r\n\r\n")
        S.log.write(f"PASS {method} {path} -> {resp.status} ({sent} bytes)", always=False)


class Stalled(Exception):
    """The request was stalled and its connection dropped: nothing to relay."""


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", type=int, required=True, help="port on 127.0.0.1 (0 = any)")
    ap.add_argument("--upstream", required=True, help="HOST:PORT of the registry")
    ap.add_argument("--upstream-tls", action="store_true", help="talk HTTPS to the upstream")
    ap.add_argument("--upstream-ca", help="CA file for the upstream (default: no verification)")
    ap.add_argument("--mode", default="random",
                    help="500|502|503|429|reset|truncate|random, or a comma list")
    ap.add_argument("--rate", type=float, default=None,
                    help="fault probability per eligible request (default 0.3 for random, else 1)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only-path", help="regex; only matching paths get faults")
    ap.add_argument("--only-method", help="comma list; only these methods get faults")
    ap.add_argument("--after", type=int, default=0, help="skip the first N eligible requests")
    ap.add_argument("--max-faults", type=int, default=None)
    ap.add_argument("--stall-after", type=int, default=64 * 1024,
                    help="mode stall: body bytes relayed before stalling (default 65536)")
    ap.add_argument("--stall-seconds", type=float, default=600,
                    help="mode stall: how long to hold the connection (default 600)")
    ap.add_argument("--log", help="append FAULT (and with -v PASS) lines here too")
    ap.add_argument("--port-file", help="write the listening port here once ready")
    ap.add_argument("--timestamps", action="store_true",
                    help="end each request's log lines with t=ARRIVAL (Unix seconds)")
    ap.add_argument("-v", "--verbose", action="store_true", help="log passed requests too")
    a = ap.parse_args()

    srv = Server(("127.0.0.1", a.listen), Proxy)
    host, _, port = a.upstream.rpartition(":")
    srv.upstream = a.upstream
    srv.up_host, srv.up_port = host.strip("[]"), int(port)
    srv.up_names = {a.upstream.lower(), f"127.0.0.1:{port}", f"localhost:{port}"}
    srv.upstream_tls = a.upstream_tls
    srv.upstream_ca = a.upstream_ca
    srv.faults = Faults(a)
    srv.stall_after = a.stall_after
    srv.stall_seconds = a.stall_seconds
    srv.log = Log(a.log, a.verbose)
    srv.log.timestamps = a.timestamps
    real_port = srv.server_address[1]
    srv.log.write(f"# faultproxy 127.0.0.1:{real_port} -> {a.upstream} modes={','.join(srv.faults.modes)}"
                  f" rate={srv.faults.rate} seed={a.seed} only_path={a.only_path or '-'}"
                  f" max_faults={a.max_faults if a.max_faults is not None else '-'}")
    if a.port_file:
        with open(a.port_file, "w") as f:
            f.write(f"{real_port}\n")
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
