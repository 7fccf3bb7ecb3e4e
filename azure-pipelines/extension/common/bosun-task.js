// Helpers shared by the bosun tasks. `make vsix` copies this file into every
// task folder (a task in a .vsix must be self-contained); the handlers load
// it as ./bosun-task.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const tl = require('azure-pipelines-task-lib/task');

const EXIT_MEANING = {
    1: 'the policy said no',
    2: 'usage error',
    3: 'bad input',
    4: 'registry or network error',
    5: 'internal error',
};

function exitMeaning(rc) {
    return EXIT_MEANING[rc] || 'unexpected exit status';
}

// The directory relative paths are resolved against, as the agent does for
// filePath inputs.
function workDir() {
    return tl.getVariable('System.DefaultWorkingDirectory') || tl.getVariable('Build.SourcesDirectory') || process.cwd();
}

function tempDir() {
    return tl.getVariable('Agent.TempDirectory') || os.tmpdir();
}

// A filePath input, absolute, or '' when not given. The agent hands an
// empty filePath input over as the repository root, which means "not set".
function pathInput(name, required) {
    const v = (tl.getInput(name, required) || '').trim();
    if (!v) return '';
    const abs = path.resolve(workDir(), v);
    const roots = [tl.getVariable('Build.SourcesDirectory'), tl.getVariable('System.DefaultWorkingDirectory')]
        .filter(Boolean).map((r) => path.resolve(r));
    if (!required && roots.includes(abs)) return '';
    return abs;
}

function resolvePath(p) {
    return path.resolve(workDir(), p);
}

function strInput(name, required) {
    return (tl.getInput(name, required) || '').trim();
}

// A multiLine input: one value per line, blank lines and surrounding blanks dropped.
function linesInput(name, required) {
    return (tl.getInput(name, required) || '').split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
}

class InputError extends Error {}

function badInput(msg) {
    throw new InputError(msg);
}

// A new private directory under Agent.TempDirectory, removed by cleanup().
const cleanups = [];
function privateDir(prefix) {
    const d = fs.mkdtempSync(path.join(tempDir(), prefix));
    fs.chmodSync(d, 0o700);
    cleanups.push(() => fs.rmSync(d, { recursive: true, force: true }));
    return d;
}

function cleanup() {
    while (cleanups.length) {
        try {
            cleanups.pop()();
        } catch (e) {
            tl.debug('cleanup: ' + e.message);
        }
    }
}

// Registry credentials from a Docker registry service connection, as a
// private DOCKER_CONFIG directory whose config.json holds that registry's
// credentials only. Returns extra environment for bosun ({} without one).
function registryEnv(inputName) {
    const id = strInput(inputName);
    if (!id) return {};
    const url = tl.getEndpointUrl(id, true) || tl.getEndpointAuthorizationParameter(id, 'registry', true);
    const user = tl.getEndpointAuthorizationParameter(id, 'username', true);
    const pass = tl.getEndpointAuthorizationParameter(id, 'password', true);
    if (!url || !user || !pass) {
        badInput(`${inputName}: service connection ${id} has no registry URL, username and password (a Docker registry connection of type "Others" or "Docker Hub")`);
    }
    tl.setSecret(pass);
    const host = url.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
    const dir = privateDir('bosun-docker-');
    const auth = Buffer.from(`${user}:${pass}`).toString('base64');
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths: { [host]: { auth } } }), { mode: 0o600 });
    return { DOCKER_CONFIG: dir };
}

// The environment bosun runs with: the agent's, without the task's inputs,
// secrets and endpoint credentials, and without TF_BUILD (the task itself
// talks to the agent, so bosun's own logging commands would come twice).
function childEnv(extra) {
    const env = {};
    for (const [k, v] of Object.entries(process.env)) {
        if (/^(INPUT_|SECRET_|ENDPOINT_AUTH|SECUREFILE_TICKET_)/.test(k)) continue;
        if (['TF_BUILD', 'GITHUB_OUTPUT', 'GITHUB_STEP_SUMMARY', 'JENKINS_URL'].includes(k)) continue;
        env[k] = v;
    }
    return Object.assign(env, extra || {});
}

function bosunPath() {
    return tl.which('bosun', true);
}

// Runs bosun with ARGS; resolves to its exit code (never rejects on a
// non-zero one).
// With opts.stderrLines / opts.stdoutLines (arrays), bosun's error / output
// lines are collected there.
async function runBosun(args, extraEnv, opts) {
    const tr = tl.tool(bosunPath());
    tr.arg(args);
    const o = Object.assign({}, opts || {});
    for (const [key, ev] of [['stderrLines', 'errline'], ['stdoutLines', 'stdline']]) {
        if (!o[key]) continue;
        const sink = o[key];
        tr.on(ev, (l) => sink.push(l));
        delete o[key];
    }
    return tr.execAsync(Object.assign({ ignoreReturnCode: true, cwd: workDir(), env: childEnv(extraEnv) }, o));
}

function readJson(file) {
    try {
        return JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
        return null;
    }
}

// Common registry inputs (advanced group) -> bosun options.
function registryArgs(withPlatform) {
    const a = [];
    for (const h of linesInput('insecureRegistries')) a.push('--insecure-registry', h);
    const ca = pathInput('caCert');
    if (ca) a.push('--cacert', ca);
    const plat = withPlatform === false ? '' : strInput('platform');
    if (plat) a.push('--platform', plat);
    const retries = strInput('retries');
    if (retries) {
        if (!/^\d+$/.test(retries)) badInput(`retries: not a number: ${retries}`);
        a.push('--retries', retries);
    }
    return a;
}

// The packageMirrors input (one [security=|main=]URL a line) -> bosun patch's
// and bosun ship's --package-mirror options, checked as bosun checks them.
const MIRROR = /^(security=|main=)?(https?:\/\/|file:\/)[^\s"'\\[\]]+$/;
function mirrorArgs() {
    const a = [];
    for (const m of linesInput('packageMirrors')) {
        if (!MIRROR.test(m)) badInput(`packageMirrors: "${m}" is not [security=|main=]http(s)://URL`);
        a.push('--package-mirror', m);
    }
    return a;
}

// Downloads the secure file selected in a secureFile input into a private
// temporary directory (removed when the task ends) and returns its path, as
// DownloadSecureFile@1 does: the agent gives the task the file's id in the
// input, a one-time ticket in SECUREFILE_TICKET_<id>, and the job's access
// token in the SystemVssConnection endpoint; the file comes from
// {collection}{project}/_apis/distributedtask/securefiles/{id}?ticket=...&download=true.
async function downloadSecureFile(inputName) {
    const id = strInput(inputName);
    if (!id) return '';
    const ticket = tl.getSecureFileTicket(id);
    const name = tl.getSecureFileName(id) || 'secure-file';
    const collection = tl.getVariable('System.TeamFoundationCollectionUri');
    const project = tl.getVariable('System.TeamProjectId') || tl.getVariable('System.TeamProject');
    const token = tl.getEndpointAuthorizationParameter('SystemVssConnection', 'AccessToken', true);
    if (!ticket || !collection || !project || !token) {
        badInput(`${inputName}: the agent gave no ticket, collection URL, project or access token for secure file ${id} (is the pipeline authorised to use it?)`);
    }
    const url = new URL(`${encodeURIComponent(project)}/_apis/distributedtask/securefiles/${encodeURIComponent(id)}`,
        collection.endsWith('/') ? collection : collection + '/');
    url.searchParams.set('ticket', ticket);
    url.searchParams.set('download', 'true');
    url.searchParams.set('api-version', '7.1-preview.1');
    const body = await httpGet(url, { Authorization: `Bearer ${token}`, Accept: 'application/octet-stream' });
    const file = path.join(privateDir('bosun-secure-'), path.basename(name));
    fs.writeFileSync(file, body, { mode: 0o600 });
    return file;
}

function httpGet(url, headers, redirects) {
    const mod = url.protocol === 'https:' ? require('https') : require('http');
    return new Promise((resolve, reject) => {
        const req = mod.get(url, { headers }, (res) => {
            if ([301, 302, 303, 307, 308].includes(res.statusCode) && res.headers.location && (redirects || 0) < 5) {
                res.resume();
                // a redirect goes to blob storage: the token stays behind
                resolve(httpGet(new URL(res.headers.location, url), { Accept: headers.Accept }, (redirects || 0) + 1));
                return;
            }
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => {
                if (res.statusCode !== 200) {
                    reject(new Error(`secure file download: HTTP ${res.statusCode} from ${url.origin}${url.pathname}`));
                } else {
                    resolve(Buffer.concat(chunks));
                }
            });
        });
        req.on('error', (e) => reject(new Error(`secure file download: ${e.message}`)));
        req.setTimeout(60000, () => req.destroy(new Error('timed out')));
    });
}

// Runs MAIN; an InputError or any exception fails the task with its message.
function main(fn) {
    fn().catch((e) => {
        tl.setResult(tl.TaskResult.Failed, e instanceof InputError ? e.message : `${e.message || e}`);
    }).finally(cleanup);
}

module.exports = {
    exitMeaning, workDir, resolvePath, tempDir, pathInput, strInput, linesInput, InputError, badInput, privateDir,
    cleanup, registryEnv, downloadSecureFile, childEnv, bosunPath, runBosun, readJson, registryArgs, mirrorArgs, main,
};
