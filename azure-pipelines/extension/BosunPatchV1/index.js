// BosunPatch@1: bosun patch (the image's OS packages upgraded in one patch
// layer, without a rebuild), then the outputs patchedDigest (the digest
// bosun prints on stdout) and patched, and the task result.
//
// Whether anything was patched is read from bosun's narration on stderr:
// "patch: N packages upgraded ..." (true) or "patch: nothing to patch: ..."
// (false; the destinations got the image unchanged). The task never passes
// -q, which would silence those lines; when neither line comes, patched is
// left empty and the task says it could not tell.
'use strict';
const tl = require('azure-pipelines-task-lib/task');
const b = require('./bosun-task');

const MODES = ['db', 'report', 'all', 'only'];
// Debian binary package names, as bosun checks them (--only)
const PKG = /^[a-z0-9][a-z0-9+.-]+$/;
const UPGRADED = /^patch: (\d+) packages? upgraded in [0-9.]+ s(?: \(the previous patch layer replaced\))?: (.*)$/;
const NOTHING = /^patch: nothing to patch: (.*)$/;
const NOT_FIXED = /^warning: patch: not fixed: (.*)$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

// SRC and the destinations: a full registry reference, oci:DIR[:TAG] or
// docker-archive:FILE.
function location(input, v) {
    if (/\s/.test(v) || !(/^(oci|docker-archive):./.test(v) || v.includes('/'))) {
        b.badInput(`${input}: "${v}" is not a full image reference (REGISTRY/REPOSITORY:TAG), oci:DIR[:TAG] or docker-archive:FILE`);
    }
    return v;
}

function modeArgs() {
    const mode = b.strInput('mode') || 'db';
    if (!MODES.includes(mode)) b.badInput(`mode: "${mode}" is not one of ${MODES.join(', ')}`);
    const a = [];
    if (mode === 'db') {
        const db = b.pathInput('db');
        if (db) a.push('--db', db);
        const maxAge = b.strInput('dbMaxAge');
        if (maxAge) a.push('--db-max-age', maxAge);
    } else if (mode === 'report') {
        const report = b.pathInput('report');
        if (!report) b.badInput('report: mode report needs the JSON scan report of the image (bosun scan --format json)');
        a.push('--report', report);
    } else if (mode === 'all') {
        a.push('--all');
    } else {
        const pkgs = b.strInput('only').split(/[\s,]+/).filter(Boolean);
        if (pkgs.length === 0) b.badInput('only: mode only needs the package names, e.g. zlib1g, libssl3');
        for (const p of pkgs) {
            if (!PKG.test(p) || p.length > 200) b.badInput(`only: "${p}" is not a package name`);
        }
        a.push('--only', pkgs.join(','));
    }
    return a;
}

// bosun's one error line ("bosun patch: ..."), else its last line
function reason(lines) {
    const l = lines.map((x) => x.trim()).filter(Boolean);
    const err = l.filter((x) => /^bosun( patch)?: /.test(x)).slice(-1)[0] || l.slice(-1)[0] || '';
    return err.replace(/^bosun( patch)?: /, '');
}

async function run() {
    const image = location('image', b.strInput('image', true));
    const dests = b.linesInput('destinations', true).map((d) => location('destinations', d));
    if (dests.length === 0) b.badInput('destinations: give at least one image reference to write the patched image to');
    const args = ['patch', ...modeArgs()];
    args.push(...b.mirrorArgs());
    const tool = b.strInput('toolImage');
    if (tool) {
        if (/\s/.test(tool)) b.badInput(`toolImage: "${tool}" is not an image reference`);
        args.push('--tool-image', tool);
    }
    for (const d of dests) args.push('-t', d);
    const env = b.registryEnv('dockerRegistryServiceConnection');
    args.push(...b.registryArgs(), image);

    const errs = [];
    const outs = [];
    const rc = await b.runBosun(args, env, { stderrLines: errs, stdoutLines: outs });
    if (rc !== 0) {
        const why = reason(errs);
        tl.setResult(tl.TaskResult.Failed, `bosun patch failed: exit ${rc} (${b.exitMeaning(rc)})${why ? ': ' + why : ''}`);
        return;
    }
    const digest = outs.map((l) => l.trim()).filter((l) => DIGEST.test(l)).slice(-1)[0] || '';
    let up = null;
    let nothing = null;
    const unfixed = [];
    for (const l of errs.map((x) => x.trim())) {
        up = UPGRADED.exec(l) || up;
        nothing = NOTHING.exec(l) || nothing;
        const nf = NOT_FIXED.exec(l);
        if (nf) unfixed.push(nf[1]);
    }
    const patched = up ? 'true' : nothing ? 'false' : '';
    tl.setVariable('patchedDigest', digest, false, true);
    tl.setVariable('patched', patched, false, true);
    const w = unfixed.map((u) => `not fixed: ${u}`);
    if (!digest) w.push('bosun printed no digest');
    if (!patched) w.push('bosun said neither "packages upgraded" nor "nothing to patch": whether the image changed is unknown');
    for (const m of w) tl.warning(m);
    const where = `${dests.join(', ')}${digest ? ' @ ' + digest : ''}`;
    let msg;
    const list = up && up[2].length > 400 ? up[2].slice(0, 400) + '…' : up && up[2];
    if (up) msg = `patched ${image}: ${up[1]} package${up[1] === '1' ? '' : 's'} upgraded (${list}) -> ${where}`;
    else if (nothing) msg = `nothing to patch in ${image} (${nothing[1]}): ${where} got the image unchanged`;
    else msg = `bosun patch ${image} -> ${where}`;
    if (w.length) tl.setResult(tl.TaskResult.SucceededWithIssues, `${msg}; ${w.join('; ')}`);
    else tl.setResult(tl.TaskResult.Succeeded, msg);
}

b.main(run);
