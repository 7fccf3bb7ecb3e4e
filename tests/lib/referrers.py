"""tests/lib/referrers.py — read and forge OCI 1.1 referrers in a registry
for the bundle tests, standard library only (an independent reader: it
shares no code with bosun).

  referrers.py check REGURL REPO DIGEST [N_SIGN N_ATT]
      reads the referrers of DIGEST (the API when the registry answers it,
      else the tag schema index sha256-<hex>) and checks every entry
      against the distribution and image specs: index mediaType and
      schemaVersion, each entry's mediaType / digest / size equal to the
      manifest the registry serves, artifactType equal to the manifest's,
      the manifest's subject = DIGEST with the image's media type and size,
      empty config, one bundle layer whose blob has its digest, and the
      annotations of BUNDLE_SPEC.md copied into the entry. With N_SIGN and
      N_ATT, the count of signature / attestation bundles must be exact.
      Prints the bundle file names written to ./bundles/, "pages N" (the
      API's Link rel="next" pages, followed) and last "api" or "tag".
  referrers.py attach REGURL REPO DIGEST BUNDLEFILE [SUBJECT]
      pushes BUNDLEFILE as a referrer manifest whose subject is SUBJECT
      (default DIGEST) and lists it in DIGEST's tag schema index: forged
      referrers for the tamper tests.
"""
import hashlib, json, os, re, sys, urllib.request, urllib.error
from urllib.parse import urljoin

IDX = "application/vnd.oci.image.index.v1+json"
MAN = "application/vnd.oci.image.manifest.v1+json"
BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json"
EMPTY = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
SIGN_PT = "https://sigstore.dev/cosign/sign/v1"


def req(method, url, body=None, ctype=None, accept=None):
    r = urllib.request.Request(url, data=body, method=method)
    if ctype:
        r.add_header("Content-Type", ctype)
    if accept:
        r.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(r) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def api_pages(base, first_body, first_headers, first_url):
    """The referrers API answer with its Link rel="next" pages followed (the
    distribution spec's pagination): the merged index and the page count."""
    idx, body, h, url, seen = None, first_body, first_headers, first_url, [first_url]
    while True:
        page = json.loads(body)
        if idx is None:
            idx = page
        else:
            idx["manifests"] = idx.get("manifests", []) + page.get("manifests", [])
        m = re.search(r'<([^>]*)>\s*;\s*rel="?next"?', h.get("Link", ""))
        if not m:
            return idx, len(seen)
        url = urljoin(url, m.group(1))
        if url in seen or len(seen) >= 64:
            fail(f"referrers pagination loops or runs past 64 pages at {url}")
        seen.append(url)
        st, h, body = req("GET", url, accept=IDX)
        if st != 200:
            fail(f"referrers page {len(seen)}: HTTP {st}")


def check(base, repo, digest, n_sign=None, n_att=None):
    url = f"{base}/v2/{repo}/referrers/{digest}"
    st, h, body = req("GET", url, accept=IDX)
    pages = 1
    if st == 200:
        how = "api"
        idx, pages = api_pages(base, body, h, url)
        body = json.dumps(idx).encode()
    elif st == 404:
        how = "tag"
        st, _, body = req("GET", f"{base}/v2/{repo}/manifests/sha256-{digest[7:]}", accept=IDX)
        if st != 200:
            fail(f"no tag schema index sha256-{digest[7:]} (HTTP {st})")
    else:
        fail(f"referrers API answered {st}")
    idx = json.loads(body)
    if idx.get("schemaVersion") != 2 or idx.get("mediaType") != IDX:
        fail("index schemaVersion/mediaType: " + body.decode()[:200])
    st, h, img = req("GET", f"{base}/v2/{repo}/manifests/{digest}", accept=IDX + ", " + MAN)
    img_mt = h.get("Content-Type", "").split(";")[0]
    if st != 200 or sha(img) != digest:
        fail("image manifest not served")
    os.makedirs("bundles", exist_ok=True)
    seen, counts = set(), {"sign": 0, "att": 0}
    for i, ent in enumerate(idx.get("manifests", [])):
        d = ent.get("digest")
        if d in seen:
            fail(f"entry {i}: {d} listed twice")
        seen.add(d)
        st, h, m = req("GET", f"{base}/v2/{repo}/manifests/{d}", accept=MAN)
        if st != 200 or sha(m) != d:
            fail(f"entry {i}: manifest {d} not served or wrong digest")
        if ent.get("mediaType") != MAN or ent.get("size") != len(m):
            fail(f"entry {i}: mediaType/size {ent.get('mediaType')}/{ent.get('size')} vs {len(m)}")
        man = json.loads(m)
        at = man.get("artifactType") or man["config"]["mediaType"]
        if ent.get("artifactType") != at:
            fail(f"entry {i}: artifactType {ent.get('artifactType')} vs manifest {at}")
        if at != BUNDLE:
            continue
        sub = man.get("subject") or {}
        if sub.get("digest") != digest or sub.get("size") != len(img) or sub.get("mediaType") != img_mt:
            fail(f"entry {i}: subject {sub} is not the image ({img_mt}, {len(img)})")
        cfg = man["config"]
        if (cfg.get("mediaType"), cfg.get("digest"), cfg.get("size")) != ("application/vnd.oci.empty.v1+json", EMPTY, 2):
            fail(f"entry {i}: config is not the empty descriptor: {cfg}")
        if len(man["layers"]) != 1 or man["layers"][0]["mediaType"] != BUNDLE:
            fail(f"entry {i}: layers {man['layers']}")
        st, _, blob = req("GET", f"{base}/v2/{repo}/blobs/{man['layers'][0]['digest']}")
        if st != 200 or sha(blob) != man["layers"][0]["digest"] or len(blob) != man["layers"][0]["size"]:
            fail(f"entry {i}: bundle blob")
        ann, eann = man.get("annotations") or {}, ent.get("annotations") or {}
        for k in ("dev.sigstore.bundle.content", "dev.sigstore.bundle.predicateType", "org.opencontainers.image.created"):
            if k not in ann or eann.get(k) != ann[k]:
                fail(f"entry {i}: annotation {k}: manifest {ann.get(k)} index {eann.get(k)}")
        if ann["dev.sigstore.bundle.content"] != "dsse-envelope":
            fail(f"entry {i}: content {ann['dev.sigstore.bundle.content']}")
        kind = "sign" if ann["dev.sigstore.bundle.predicateType"] == SIGN_PT else "att"
        counts[kind] += 1
        name = f"bundles/{kind}-{d[7:19]}.json"
        with open(name, "wb") as f:
            f.write(blob)
        print(name)
    if n_sign is not None and (counts["sign"], counts["att"]) != (int(n_sign), int(n_att)):
        fail(f"{counts['sign']} signature and {counts['att']} attestation bundles, want {n_sign} and {n_att}")
    print(f"pages {pages}")
    print(how)


def attach(base, repo, digest, path, subject=None):
    subject = subject or digest
    blob = open(path, "rb").read()
    st, h, img = req("GET", f"{base}/v2/{repo}/manifests/{subject}", accept=IDX + ", " + MAN)
    if st != 200:
        fail(f"subject {subject}: HTTP {st}")
    for b in (blob, b"{}"):
        st, h, _ = req("POST", f"{base}/v2/{repo}/blobs/uploads/")
        loc = h["Location"]
        loc = (loc if loc.startswith("http") else base + loc) + ("&" if "?" in loc else "?") + "digest=" + sha(b)
        st, _, _ = req("PUT", loc, b, "application/octet-stream")
        if st != 201:
            fail(f"blob upload: HTTP {st}")
    ann = {"dev.sigstore.bundle.content": "dsse-envelope", "dev.sigstore.bundle.predicateType": SIGN_PT,
           "org.opencontainers.image.created": "2030-01-01T00:00:00Z"}
    man = json.dumps({"schemaVersion": 2, "mediaType": MAN, "artifactType": BUNDLE,
                      "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": EMPTY, "size": 2},
                      "layers": [{"mediaType": BUNDLE, "digest": sha(blob), "size": len(blob)}],
                      "subject": {"mediaType": h.get("Content-Type", MAN).split(";")[0], "digest": subject,
                                  "size": len(img)},
                      "annotations": ann}).encode()
    st, _, _ = req("PUT", f"{base}/v2/{repo}/manifests/{sha(man)}", man, MAN)
    if st != 201:
        fail(f"manifest put: HTTP {st}")
    tag = f"sha256-{digest[7:]}"
    st, _, body = req("GET", f"{base}/v2/{repo}/manifests/{tag}", accept=IDX)
    idx = json.loads(body) if st == 200 else {"schemaVersion": 2, "mediaType": IDX, "manifests": []}
    idx["manifests"].append({"mediaType": MAN, "digest": sha(man), "size": len(man), "artifactType": BUNDLE,
                             "annotations": ann})
    st, _, _ = req("PUT", f"{base}/v2/{repo}/manifests/{tag}", json.dumps(idx).encode(), IDX)
    if st != 201:
        fail(f"index put: HTTP {st}")
    print(sha(man))


if __name__ == "__main__":
    if sys.argv[1] == "check":
        check(*sys.argv[2:])
    elif sys.argv[1] == "attach":
        attach(*sys.argv[2:])
    else:
        sys.exit(2)
