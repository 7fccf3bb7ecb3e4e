// tests/lib/sigstore_verify.js BUNDLE.json PUBKEY.pem [sha256:DIGEST]
//
// Verifies a Sigstore bundle with sigstore-js (@sigstore/bundle parses and
// validates it, @sigstore/verify checks the signature), offline: an empty
// trusted root, the given public key whatever the bundle's hint says, and
// no transparency-log, certificate-transparency or timestamp thresholds.
// With DIGEST, the in-toto statement's subject must name it. Prints one
// JSON line {hintMatches, predicateType, subjects}; exit 0 verified,
// 1 refused (reason on stderr), 2 usage.
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const { bundleFromJSON } = require('@sigstore/bundle');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');

const [bundlePath, keyPath, digest] = process.argv.slice(2);
if (!bundlePath || !keyPath) {
  console.error('usage: sigstore_verify.js BUNDLE.json PUBKEY.pem [sha256:DIGEST]');
  process.exit(2);
}
try {
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundlePath, 'utf8')));
  const pub = crypto.createPublicKey(fs.readFileSync(keyPath));
  const der = pub.export({ type: 'spki', format: 'der' });
  const hint = crypto.createHash('sha256').update(der).digest('base64');
  const emptyRoot = { certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [] };
  const trust = toTrustMaterial(emptyRoot, () => ({ publicKey: pub, validFor: () => true }));
  const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
  verifier.verify(toSignedEntity(bundle));
  const out = { hintMatches: bundle.verificationMaterial.content.publicKey?.hint === hint };
  if (bundle.content.$case === 'dsseEnvelope') {
    const env = bundle.content.dsseEnvelope;
    if (env.payloadType !== 'application/vnd.in-toto+json') throw new Error('payloadType ' + env.payloadType);
    const st = JSON.parse(Buffer.from(env.payload).toString('utf8'));
    out.type = st._type;
    out.predicateType = st.predicateType;
    out.subjects = (st.subject || []).map((s) => 'sha256:' + (s.digest || {}).sha256);
    if (digest && !out.subjects.includes(digest)) throw new Error('statement subject is not ' + digest);
  }
  console.log(JSON.stringify(out));
} catch (err) {
  console.error('refused: ' + (err.code ? err.code + ': ' : '') + err.message);
  process.exit(1);
}
