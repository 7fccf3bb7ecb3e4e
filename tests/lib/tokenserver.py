#!/usr/bin/python3
"""Docker registry token server for bosun's end-to-end tests.

Implements the two halves of the distribution token protocol that clients
meet in the wild:

  GET  /token?service=S&scope=...[&offline_token=true]
       HTTP Basic credentials, or none (anonymous: a token with no access).
  POST /token  (application/x-www-form-urlencoded)
       grant_type=refresh_token&refresh_token=R&service=S&scope=...
           the identity-token flow (Docker `identitytoken`, Azure ACR's
           00000000-0000-0000-0000-000000000000 user);
       grant_type=password&username=U&password=P&service=S&scope=...
           [&access_type=offline]  -> also returns a refresh_token.

Tokens are JWTs signed ES256 or RS256 by `openssl dgst` (the standard
library has no asymmetric crypto).  The signing certificate travels in the
`x5c` header; docker-registry verifies that chain against the
`rootcertbundle`, which holds the same self-signed certificate.

`--field` chooses the response field carrying the JWT: `token` (Docker
Hub's GET answer), `access_token` (Azure ACR), or `both`.  It applies to GET
and POST alike, so a client must cope with either.

The log (--log) gets one line per request; passwords, refresh tokens and
issued tokens are never written to it.  --issued-file FILE collects every
token issued, one per line, for tests that check a client never leaks one.
"""

import argparse
import base64
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


ISSUED_LOCK = threading.Lock()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def der_ecdsa_to_raw(der, size=32):
    """DER SEQUENCE{INTEGER r, INTEGER s} -> r||s, as JWS ES256 wants."""

    def read_len(buf, i):
        n = buf[i]
        i += 1
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(buf[i:i + k], "big")
            i += k
        return n, i

    if der[0] != 0x30:
        raise ValueError("not a DER sequence")
    _, i = read_len(der, 1)
    out = b""
    for _ in range(2):
        if der[i] != 0x02:
            raise ValueError("not a DER integer")
        n, i = read_len(der, i + 1)
        v = int.from_bytes(der[i:i + n], "big")
        i += n
        out += v.to_bytes(size, "big")
    return out


class Signer:
    def __init__(self, key, cert, alg):
        self.key = key
        self.alg = alg
        pem = open(cert).read()
        body = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
        # x5c is standard base64 of DER (not base64url), per RFC 7515.
        self.x5c = ["".join(body.split())]

    def sign(self, claims):
        header = {"typ": "JWT", "alg": self.alg, "x5c": self.x5c}
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode())
                         + "." + b64url(json.dumps(claims, separators=(",", ":")).encode()))
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.key],
                             input=signing_input.encode(), capture_output=True, check=True).stdout
        if self.alg == "ES256":
            sig = der_ecdsa_to_raw(sig)
        return signing_input + "." + b64url(sig)


def parse_scopes(values):
    """'repository:host:5000/ns/name:pull,push' -> type, name, actions.

    Names may contain colons (a port), so split at the first and last one.
    Several scopes may share one parameter, separated by spaces."""
    out = []
    for value in values:
        for scope in value.split():
            first, last = scope.find(":"), scope.rfind(":")
            if first < 0 or first == last:
                continue
            actions = [a for a in scope[last + 1:].split(",") if a]
            out.append((scope[:first], scope[first + 1:last], actions))
    return out


class Config:
    pass


CFG = Config()
LOG_LOCK = threading.Lock()


def log(line):
    stamp = time.strftime("%H:%M:%S")
    with LOG_LOCK:
        if CFG.logfile:
            with open(CFG.logfile, "a") as f:
                f.write(f"{stamp} {line}\n")
        else:
            sys.stderr.write(f"{stamp} {line}\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bosun-test-tokenserver/1"

    def log_message(self, fmt, *args):  # our own log() replaces this
        pass

    def reply(self, status, obj, extra_headers=()):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def deny(self, why, note):
        log(f"{note} -> 401 ({why})")
        self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": why}]},
                   [("WWW-Authenticate", 'Basic realm="bosun-test-token"')])

    def issue(self, subject, params, note, refresh=None):
        service = params.get("service", [""])[0]
        if CFG.service and service and service != CFG.service:
            log(f"{note} -> 400 (unknown service {service!r})")
            self.reply(400, {"errors": [{"code": "DENIED", "message": "unknown service"}]})
            return
        access = []
        if subject:  # anonymous gets a valid token that grants nothing
            for typ, name, actions in parse_scopes(params.get("scope", [])):
                granted = [a for a in actions if "*" in CFG.allow or a in CFG.allow]
                if granted:
                    access.append({"type": typ, "name": name, "actions": granted})
        now = int(time.time())
        claims = {
            "iss": CFG.issuer,
            "sub": subject,
            "aud": CFG.service or service,
            "exp": now + CFG.ttl,
            "nbf": now - 10,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        token = CFG.signer.sign(claims)
        if CFG.issued_file:
            with ISSUED_LOCK, open(CFG.issued_file, "a") as f:
                f.write(token + "\n")
        body = {"expires_in": CFG.ttl,
                "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))}
        if CFG.field in ("token", "both"):
            body["token"] = token
        if CFG.field in ("access_token", "both"):
            body["access_token"] = token
        if refresh:
            body["refresh_token"] = refresh
        granted = " ".join(f"{a['type']}:{a['name']}:{','.join(a['actions'])}" for a in access)
        log(f"{note} sub={subject or '-'} granted=[{granted}] -> 200")
        self.reply(200, body)

    def basic_user(self):
        """(user, ok) from the Authorization header; user None if absent."""
        h = self.headers.get("Authorization", "")
        if not h.lower().startswith("basic "):
            return None, False
        try:
            user, _, pw = base64.b64decode(h[6:].strip()).decode().partition(":")
        except Exception:
            return "?", False
        return user, CFG.users.get(user) == pw

    def do_GET(self):
        u = urlsplit(self.path)
        params = parse_qs(u.query)
        scopes = " ".join(params.get("scope", []))
        note = f"GET {u.path} service={params.get('service', [''])[0]} scope=[{scopes}]"
        if u.path != CFG.path:
            log(f"{note} -> 404")
            self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "no such endpoint"}]})
            return
        user, good = self.basic_user()
        note += f" user={user or '-'}"
        if user is None:
            if CFG.anonymous:
                self.issue("", params, note)
            else:
                self.deny("authentication required", note)
            return
        if not good:
            self.deny("invalid username or password", note)
            return
        offline = params.get("offline_token", [""])[0] == "true"
        self.issue(user, params, note, CFG.refresh_token if offline else None)

    def do_POST(self):
        u = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode(errors="replace")
        params = parse_qs(raw)
        grant = params.get("grant_type", [""])[0]
        scopes = " ".join(params.get("scope", []))
        note = (f"POST {u.path} grant_type={grant} service={params.get('service', [''])[0]}"
                f" scope=[{scopes}] client_id={params.get('client_id', [''])[0]}")
        if u.path != CFG.path:
            log(f"{note} -> 404")
            self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "no such endpoint"}]})
            return
        if grant == "refresh_token":
            given = params.get("refresh_token", [""])[0]
            if not CFG.refresh_token or given != CFG.refresh_token:
                self.deny("invalid refresh token", note)
                return
            self.issue(CFG.refresh_user, params, note)
        elif grant == "password":
            user = params.get("username", [""])[0]
            note += f" user={user or '-'}"
            if CFG.users.get(user) != params.get("password", [None])[0]:
                self.deny("invalid username or password", note)
                return
            offline = params.get("access_type", [""])[0] == "offline"
            self.issue(user, params, note, CFG.refresh_token if offline else None)
        else:
            log(f"{note} -> 400 (unsupported grant_type)")
            self.reply(400, {"error": "unsupported_grant_type"})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", type=int, required=True, help="port on 127.0.0.1")
    ap.add_argument("--key", required=True, help="PEM private key (EC P-256 or RSA)")
    ap.add_argument("--cert", required=True, help="PEM certificate of that key (sent as x5c)")
    ap.add_argument("--alg", choices=["ES256", "RS256"], default="ES256")
    ap.add_argument("--issuer", default="bosun-test-issuer")
    ap.add_argument("--service", default="bosun-test-registry",
                    help="expected service; also the audience claim")
    ap.add_argument("--user", action="append", default=[], metavar="NAME:PASSWORD",
                    help="accepted credentials (repeatable)")
    ap.add_argument("--users-file", help="file of NAME:PASSWORD lines (keeps secrets off argv)")
    ap.add_argument("--allow", default="pull,push,delete,*",
                    help="actions a valid user may be granted (comma list; * = any)")
    ap.add_argument("--refresh-token-file",
                    help="file whose content is the one valid refresh (identity) token")
    ap.add_argument("--refresh-user", default="",
                    help="subject for refresh-token grants (default: first user)")
    ap.add_argument("--field", choices=["token", "access_token", "both"],
                    default=os.environ.get("TOKENSERVER_FIELD", "token"),
                    help="response field carrying the JWT (env TOKENSERVER_FIELD)")
    ap.add_argument("--no-anonymous", action="store_true",
                    help="answer 401 to GET without credentials instead of an empty token")
    ap.add_argument("--ttl", type=int, default=300)
    ap.add_argument("--path", default="/token")
    ap.add_argument("--log", help="request log file (default stderr)")
    ap.add_argument("--issued-file", help="append every issued token here (a test's secret list)")
    a = ap.parse_args()

    users = {}
    for spec in a.user:
        name, _, pw = spec.partition(":")
        users[name] = pw
    if a.users_file:
        for line in open(a.users_file).read().splitlines():
            if line.strip():
                name, _, pw = line.partition(":")
                users[name] = pw

    CFG.users = users
    CFG.allow = set(x for x in a.allow.split(",") if x)
    CFG.signer = Signer(a.key, a.cert, a.alg)
    CFG.issuer = a.issuer
    CFG.service = a.service
    CFG.field = a.field
    CFG.anonymous = not a.no_anonymous
    CFG.ttl = a.ttl
    CFG.path = a.path
    CFG.logfile = a.log
    CFG.issued_file = a.issued_file
    CFG.refresh_token = open(a.refresh_token_file).read().strip() if a.refresh_token_file else ""
    CFG.refresh_user = a.refresh_user or next(iter(users), "refresh-user")

    # Fail at start-up, not on the first request, if openssl cannot sign.
    CFG.signer.sign({"probe": True})

    srv = ThreadingHTTPServer(("127.0.0.1", a.listen), Handler)
    srv.daemon_threads = True
    log(f"listening on 127.0.0.1:{a.listen} alg={a.alg} field={a.field}")
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
