"""tests/lib/referrers_proxy.py --listen PORT --upstream HOST:PORT [--page-size N]

A registry with the OCI 1.1 referrers API, for tests: a plain-HTTP proxy in
front of Debian's docker-registry (which has none). Everything is passed
through, except:
  - PUT /v2/<name>/manifests/<ref> whose body has a "subject": passed
    through, and when the registry stored it, remembered as a referrer of
    the subject and answered with OCI-Subject (distribution spec, "Pushing
    Manifests with Subject");
  - GET/HEAD /v2/<name>/referrers/<digest>: the image index of the
    remembered referrers (descriptor: mediaType, digest, size, artifactType
    = the manifest's artifactType or else its config mediaType,
    annotations), ?artifactType= filtered (OCI-Filters-Applied).
    With a page size N (--page-size, $REFERRERS_PAGE_SIZE or the control
    request below; 0 = one page), the answer is paginated as the
    distribution spec allows: N descriptors per page and, while more
    follow, a header Link: </v2/<name>/referrers/<digest>?page=K>;
    rel="next" (relative, the artifactType filter kept).
  - POST /_test/paging with {"page_size": N, "link": "next"|"loop"|"endless"}
    sets the pagination at run time: "loop" makes the last page's next link
    point back at page 0, "endless" gives every page (even empty ones past
    the end) a next link: the hostile cases a client must refuse.
Referrers live in memory for the proxy's lifetime. Standard library only.
"""
import argparse, hashlib, http.client, json, os, re, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

IDX = "application/vnd.oci.image.index.v1+json"
LOCK = threading.Lock()
REFERRERS = {}  # (name, subject digest) -> {manifest digest: descriptor}
UPSTREAM = None
PAGING = {"page_size": 0, "link": "next"}
RE_REF = re.compile(r"^/v2/(.+)/referrers/(sha256:[0-9a-f]{64})$")
RE_MAN = re.compile(r"^/v2/(.+)/manifests/([^/]+)$")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _forward(self, body):
        conn = http.client.HTTPConnection(UPSTREAM, timeout=60)
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "content-length")}
        if body or self.command in ("PUT", "POST", "PATCH"):
            hdrs["Content-Length"] = str(len(body))
        conn.request(self.command, self.path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, resp.getheaders(), data

    def _send(self, status, headers, data, extra=None):
        self.send_response(status)
        length = str(len(data))
        for k, v in headers:
            if k.lower() == "content-length" and self.command == "HEAD":
                length = v  # a HEAD answer has no body but the GET's length
            elif k.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(k, v)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", length)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _referrers(self, name, digest):
        q = parse_qs(urlsplit(self.path).query)
        want = q.get("artifactType", [None])[0]
        with LOCK:
            descs = list(REFERRERS.get((name, digest), {}).values())
            size, mode = PAGING["page_size"], PAGING["link"]
        extra = {}
        if want:
            descs = [d for d in descs if d.get("artifactType") == want]
            extra["OCI-Filters-Applied"] = "artifactType"
        if size > 0:
            page = int(q.get("page", ["0"])[0])
            last = max(0, (len(descs) - 1) // size)
            nxt = page + 1 if page < last or mode == "endless" else (0 if mode == "loop" else None)
            descs = descs[page * size:(page + 1) * size]
            if nxt is not None:
                args = {"page": nxt} if nxt else {}  # the loop points at the first URL itself
                if want:
                    args["artifactType"] = want
                qs = "?" + urlencode(args) if args else ""
                extra["Link"] = '</v2/%s/referrers/%s%s>; rel="next"' % (name, digest, qs)
        data = json.dumps({"schemaVersion": 2, "mediaType": IDX, "manifests": descs}).encode()
        self._send(200, [("Content-Type", IDX)], data, extra)

    def _paging(self):
        try:
            cfg = json.loads(self._body())
            size, mode = int(cfg.get("page_size", 0)), cfg.get("link", "next")
        except (ValueError, TypeError, AttributeError):
            return self._send(400, [], b"bad paging request\n")
        if mode not in ("next", "loop", "endless") or size < 0:
            return self._send(400, [], b"bad paging request\n")
        with LOCK:
            PAGING.update(page_size=size, link=mode)
        self._send(204, [], b"")

    def do_GET(self):
        m = RE_REF.match(urlsplit(self.path).path)
        if m:
            return self._referrers(m.group(1), m.group(2))
        self._send(*self._forward(b""))

    do_HEAD = do_GET

    def do_DELETE(self):
        self._send(*self._forward(self._body()))

    def do_POST(self):
        if urlsplit(self.path).path == "/_test/paging":
            return self._paging()
        self._send(*self._forward(self._body()))

    def do_PATCH(self):
        self._send(*self._forward(self._body()))

    def do_PUT(self):
        body = self._body()
        status, headers, data = self._forward(body)
        m = RE_MAN.match(urlsplit(self.path).path)
        extra = {}
        if m and status == 201:
            try:
                man = json.loads(body)
            except ValueError:
                man = None
            sub = man.get("subject") if isinstance(man, dict) else None
            if isinstance(sub, dict) and isinstance(sub.get("digest"), str):
                d = "sha256:" + hashlib.sha256(body).hexdigest()
                desc = {"mediaType": man.get("mediaType", self.headers.get("Content-Type")), "digest": d,
                        "size": len(body)}
                at = man.get("artifactType") or (man.get("config") or {}).get("mediaType")
                if at:
                    desc["artifactType"] = at
                if man.get("annotations"):
                    desc["annotations"] = man["annotations"]
                with LOCK:
                    REFERRERS.setdefault((m.group(1), sub["digest"]), {})[d] = desc
                extra["OCI-Subject"] = sub["digest"]
        self._send(status, headers, data, extra)


def main():
    global UPSTREAM
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--page-size", type=int, default=int(os.environ.get("REFERRERS_PAGE_SIZE") or 0))
    a = ap.parse_args()
    UPSTREAM = a.upstream
    PAGING["page_size"] = max(0, a.page_size)
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", a.listen), Handler).serve_forever()


if __name__ == "__main__":
    main()
