// BosunShip@1: bosun ship (build, scan, policy gate, push, sign, attest),
// then the results on the agent: output variables, errors for the findings
// that failed the gate, the JUnit in the Tests tab, the markdown summary,
// report.html as an attachment, and the task result.
'use strict';
const fs = require('fs');
const path = require('path');
const tl = require('azure-pipelines-task-lib/task');
const b = require('./bosun-task');

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'none'];
const MAX_ISSUES = 50;

function buildArgs() {
    const a = [];
    const df = b.pathInput('dockerfile');
    if (df) a.push('-f', df);
    const tags = b.linesInput('tags');
    const noPush = tl.getBoolInput('noPush');
    if (tags.length === 0 && !noPush) b.badInput('tags: give at least one image reference to push to (one per line, e.g. myacr.azurecr.io/team/app:$(Build.BuildId))');
    for (const t of tags) {
        if (/\s/.test(t) || !t.includes('/')) b.badInput(`tags: "${t}" is not a full image reference (REGISTRY/REPOSITORY:TAG)`);
        a.push('-t', t);
    }
    for (const ba of b.linesInput('buildArgs')) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(ba)) b.badInput(`buildArgs: "${ba.replace(/=.*/, '=…')}" is not NAME=value (NAME of letters, digits and _)`);
        a.push('--build-arg', ba);
    }
    const target = b.strInput('target');
    if (target) a.push('--target', target);
    for (const l of b.linesInput('labels')) {
        if (!/^[^=\s]+=/.test(l)) b.badInput(`labels: "${l}" is not KEY=value`);
        a.push('--label', l);
    }
    for (const s of b.linesInput('buildSecrets')) a.push('--secret', s);
    const network = b.strInput('network');
    if (network) a.push('--network', network);
    const compression = b.strInput('compression');
    if (compression) a.push('--compression', compression);
    const cacheDir = b.pathInput('cacheDir');
    if (cacheDir) a.push('--cache-dir', cacheDir);
    const cacheRepo = b.strInput('cacheRepo');
    if (cacheRepo) a.push('--cache-repo', cacheRepo);
    const output = b.strInput('output');
    if (output) a.push('--output', output);
    if (noPush) a.push('--no-push');
    return a;
}

function scanArgs(dbFile) {
    const a = [];
    if (dbFile) a.push('--db', dbFile);
    const maxAge = b.strInput('dbMaxAge');
    if (maxAge) a.push('--db-max-age', maxAge);
    const failOn = b.strInput('failOn') || 'high';
    if (!SEVERITIES.includes(failOn)) b.badInput(`failOn: "${failOn}" is not one of ${SEVERITIES.join(', ')}`);
    a.push('--fail-on', failOn);
    const sev = b.strInput('severity');
    if (sev) a.push('--severity', sev);
    const unknownAs = b.strInput('unknownAs');
    if (unknownAs) a.push('--unknown-as', unknownAs);
    if (tl.getBoolInput('ignoreUnfixed')) a.push('--ignore-unfixed');
    const ignoreFile = b.pathInput('ignoreFile');
    if (ignoreFile) a.push('--ignore-file', ignoreFile);
    for (const v of b.linesInput('vex')) a.push('--vex', b.resolvePath(v));
    if (tl.getBoolInput('pushOnFail')) a.push('--push-on-fail');
    return a;
}

// patch, packageMirrors, toolImage -> --patch and what it takes
function patchArgs() {
    const mirrors = b.mirrorArgs();
    const tool = b.strInput('toolImage');
    if (!tl.getBoolInput('patch')) {
        if (mirrors.length || tool) b.badInput('packageMirrors and toolImage: only with patch');
        return [];
    }
    const a = ['--patch', ...mirrors];
    if (tool) {
        if (/\s/.test(tool)) b.badInput(`toolImage: "${tool}" is not an image reference`);
        a.push('--tool-image', tool);
    }
    return a;
}

function patchedPackages(r) {
    return (r.patch && Array.isArray(r.patch.packages)) ? r.patch.packages : [];
}

function setOutputs(r, reportDir) {
    const c = r.counts || {};
    const out = {
        imageRef: (r.image && r.image.ref) || '',
        imageDigest: (r.image && r.image.digest) || '',
        findingsCritical: String(c.critical || 0),
        findingsHigh: String(c.high || 0),
        findingsMedium: String(c.medium || 0),
        findingsLow: String(c.low || 0),
        policyPassed: r.policy && r.policy.passed ? 'true' : 'false',
        signed: r.signing && Array.isArray(r.signing.signed) && r.signing.signed.length ? 'true' : 'false',
        patched: patchedPackages(r).length ? 'true' : 'false',
        reportDir,
    };
    for (const [k, v] of Object.entries(out)) tl.setVariable(k, v, false, true);
    return out;
}

// One error per finding that failed the gate (up to 50), as bosun does.
function findingIssues(r) {
    let failing = 0;
    for (const f of r.findings || []) {
        if (!f.failing || f.suppressed) continue;
        if (++failing > MAX_ISSUES) continue;
        tl.error(`${f.severity} ${f.id} in ${f.package} ${f.installed}${f.fixed ? ', fixed in ' + f.fixed : ', no fix yet'}: ${f.title || ''}`);
    }
    if (failing > MAX_ISSUES) tl.error(`… and ${failing - MAX_ISSUES} more findings over the threshold (see the Tests tab)`);
    return failing;
}

// Warnings for a gate that passed: serious findings the gate let through,
// and a stale base image.
function warnings(r) {
    const w = [];
    const c = r.counts || {};
    const failOn = (r.policy && r.policy.failOn) || '';
    const through = (failOn === 'none' ? ['critical', 'high'] : failOn === 'critical' ? ['high'] : [])
        .filter((s) => c[s] > 0).map((s) => `${c[s]} ${s}`);
    if (through.length) w.push(`${through.join(' and ')} finding(s) under the gate (failOn: ${failOn})`);
    const base = r.image && r.image.base;
    if (base && typeof base.ageDays === 'number' && typeof base.maxAgeDays === 'number' && base.ageDays > base.maxAgeDays) {
        w.push(`the base image ${base.name || ''} is ${base.ageDays} days old (more than ${base.maxAgeDays}): rebuild on a current base`);
    }
    if (r.policy && r.policy.passed && r.policy.pushOnFail === false && r.image && r.image.pushed === false && !tl.getBoolInput('noPush')) {
        w.push('nothing was pushed');
    }
    return w;
}

function publish(r, reportDir) {
    const junit = path.join(reportDir, 'junit.xml');
    const summary = path.join(reportDir, 'summary.md');
    const html = path.join(reportDir, 'report.html');
    if (tl.getBoolInput('publishTestResults') && fs.existsSync(junit)) {
        new tl.TestPublisher('JUnit').publish([junit], 'true', '', '', `bosun ${(r.image && r.image.ref) || ''}`.trim(), 'true');
    }
    if (fs.existsSync(summary)) tl.uploadSummary(summary);
    if (fs.existsSync(html)) tl.addAttachment('bosun.report', 'report.html', html);
    const artifact = b.strInput('artifactName');
    if (artifact) tl.uploadArtifact('bosun-reports', reportDir, artifact);
}

async function run() {
    const context = b.pathInput('context') || b.workDir();
    const reportDir = b.pathInput('reportDir') ||
        path.join(tl.getVariable('Build.ArtifactStagingDirectory') || b.tempDir(), 'bosun-reports');
    const db = b.pathInput('db');
    const dbRepository = b.strInput('dbRepository');
    if (db && dbRepository) b.badInput('db and dbRepository: give one of them, not both');
    const keyPath = b.pathInput('signingKey');
    const keySecure = b.strInput('signingKeySecureFile');
    if (keyPath && keySecure) b.badInput('signingKey and signingKeySecureFile: give one of them, not both');
    const attest = tl.getBoolInput('attest');
    const env = b.registryEnv('dockerRegistryServiceConnection');
    const password = tl.getInput('signingKeyPassword') || '';
    if (password) {
        tl.setSecret(password);
        env.BOSUN_KEY_PASSWORD = password;
    }
    // every input is checked before anything is downloaded or built
    const args = ['ship', ...buildArgs()];
    const reg = b.registryArgs();
    const patch = patchArgs();
    const baseMaxAge = b.strInput('baseMaxAge');
    if (baseMaxAge && !/^\d+$/.test(baseMaxAge)) b.badInput(`baseMaxAge: not a number of days: ${baseMaxAge}`);

    let dbFile = db;
    if (dbRepository) {
        dbFile = path.join(b.privateDir('bosun-db-'), 'vuln.db');
        const rc = await b.runBosun(['db', 'pull', '-o', dbFile, ...b.registryArgs(false), dbRepository], env);
        if (rc !== 0) {
            tl.setResult(tl.TaskResult.Failed, `bosun db pull ${dbRepository} failed: exit ${rc} (${b.exitMeaning(rc)})`);
            return;
        }
    }
    let key = keyPath;
    if (keySecure) key = await b.downloadSecureFile('signingKeySecureFile');
    args.push(...scanArgs(dbFile), ...patch);
    if (key) {
        args.push('--key', key);
        if (attest) args.push('--attest');
    }
    args.push('--report-dir', reportDir);
    if (baseMaxAge) args.push('--base-max-age', baseMaxAge);
    args.push(...reg);
    args.push(context);

    const rc = await b.runBosun(args, env);
    const r = b.readJson(path.join(reportDir, 'results.json'));
    if (!r) {
        tl.setResult(tl.TaskResult.Failed, `bosun ship failed: exit ${rc} (${b.exitMeaning(rc)}), no results.json in ${reportDir}`);
        return;
    }
    setOutputs(r, reportDir);
    const failing = findingIssues(r);
    publish(r, reportDir);
    const ref = (r.image && r.image.ref) || 'the image';
    if (rc === 1 || (r.policy && r.policy.passed === false)) {
        tl.setResult(tl.TaskResult.Failed, `bosun policy gate failed for ${ref}: ${failing} finding${failing === 1 ? '' : 's'} at or above ${(r.policy && r.policy.failOn) || 'the threshold'}` +
            (r.image && r.image.pushed ? ' (pushed anyway with pushOnFail, not signed)' : '; nothing pushed or signed'));
        return;
    }
    if (rc !== 0) {
        const broken = Object.entries(r.stages || {}).filter(([, s]) => s && s.status === 'error')
            .map(([n, s]) => `${n}: ${s.details || 'error'}`);
        tl.setResult(tl.TaskResult.Failed, `bosun ship failed: exit ${rc} (${b.exitMeaning(rc)})${broken.length ? ' — ' + broken.join('; ') : ''}`);
        return;
    }
    const w = warnings(r);
    for (const m of w) tl.warning(m);
    const pp = patchedPackages(r);
    const what = `${ref}@${(r.image && r.image.digest) || ''}` + (r.signing && r.signing.signed && r.signing.signed.length ? ', signed' : ', not signed') +
        (pp.length ? `, patched (${pp.length} package${pp.length === 1 ? '' : 's'} upgraded)` : '');
    if (w.length) tl.setResult(tl.TaskResult.SucceededWithIssues, `shipped ${what}; ${w.join('; ')}`);
    else tl.setResult(tl.TaskResult.Succeeded, `shipped ${what}`);
}

b.main(run);
