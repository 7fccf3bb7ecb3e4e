// BosunVerify@1: the deploy gate. bosun verify checks the image's
// cosign-style signature (and attestations, and a policy file) with the
// public key(s); the task fails when it does not verify, so the deployment
// job stops before anything is deployed.
'use strict';
const tl = require('azure-pipelines-task-lib/task');
const b = require('./bosun-task');

const TYPES = ['slsaprovenance', 'cyclonedx', 'vuln', 'openvex', 'custom', 'spdxjson', 'link'];

async function run() {
    const image = b.strInput('image', true);
    if (/\s/.test(image) || !image.includes('/')) b.badInput(`image: "${image}" is not a full image reference (best REPOSITORY@sha256:…)`);
    const keys = b.linesInput('publicKeys').map((k) => b.resolvePath(k));
    const atts = b.strInput('attestations').split(/[\s,]+/).filter(Boolean);
    for (const t of atts) {
        if (!TYPES.includes(t) && !/^[a-z][a-z0-9+.-]*:\/\//i.test(t)) {
            b.badInput(`attestations: "${t}" is not one of ${TYPES.join(', ')} or a predicate type URI`);
        }
    }
    const policy = b.pathInput('policy');
    const env = b.registryEnv('dockerRegistryServiceConnection');
    const reg = b.registryArgs();
    const secure = b.strInput('publicKeySecureFile');
    if (secure) keys.push(await b.downloadSecureFile('publicKeySecureFile'));
    if (keys.length === 0) b.badInput('publicKeys or publicKeySecureFile: give the public key(s) the image must be signed with');
    const args = ['verify'];
    for (const k of keys) args.push('--key', k);
    for (const t of atts) args.push('--attestation', t);
    if (policy) args.push('--policy', policy);
    args.push(...reg, image);
    const errs = [];
    const rc = await b.runBosun(args, env, { stderrLines: errs });
    tl.setVariable('verified', rc === 0 ? 'true' : 'false', false, true);
    const why = errs.filter((l) => l.trim()).slice(-1)[0] || '';
    if (rc === 0) {
        tl.setResult(tl.TaskResult.Succeeded, `${image} verified`);
    } else if (rc === 1) {
        tl.setResult(tl.TaskResult.Failed, `${image} is not signed by the expected key${atts.length || policy ? ' or fails the attestation policy' : ''}: not deploying (${why.replace(/^bosun( verify)?: /, '')})`);
    } else {
        tl.setResult(tl.TaskResult.Failed, `bosun verify failed: exit ${rc} (${b.exitMeaning(rc)})${why ? ': ' + why.replace(/^bosun( verify)?: /, '') : ''}`);
    }
}

b.main(run);
