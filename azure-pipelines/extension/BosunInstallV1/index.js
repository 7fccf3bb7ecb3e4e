// BosunInstall@1: puts bosun on the PATH from the agent's tool cache
// (Agent.ToolsDirectory/bosun/VERSION/x64). The binary comes from the copy
// bundled in the extension, from a URL, or from a file on the agent (e.g. a
// pipeline artifact downloaded by DownloadPipelineArtifact@2); a URL or file
// needs its SHA-256, and nothing is installed when it does not match.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const tl = require('azure-pipelines-task-lib/task');
const toolLib = require('azure-pipelines-tool-lib/tool');
const b = require('./bosun-task');

function sha256File(file) {
    return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

// The tool cache wants a semantic version; a development build's version
// (a commit) becomes 0.0.0-g<commit>.
function cacheVersion(v) {
    const clean = toolLib.cleanVersion(v || '');
    if (clean) return clean;
    return '0.0.0-g' + String(v).replace(/[^0-9A-Za-z-]/g, '-');
}

async function run() {
    if (process.platform !== 'linux' || process.arch !== 'x64') {
        b.badInput(`bosun is a linux/amd64 binary; this agent is ${process.platform}/${process.arch}`);
    }
    const source = b.strInput('source') || 'bundled';
    const want = b.strInput('sha256').toLowerCase();
    if (want && !/^[0-9a-f]{64}$/.test(want)) b.badInput('sha256: not a SHA-256 (64 hex digits)');
    let version = b.strInput('version');
    if (version && !toolLib.cleanVersion(version)) b.badInput(`version: "${version}" is not a version like 1.2.3`);
    let src;
    let downloaded = '';
    if (source === 'bundled') {
        const bundle = b.readJson(path.join(__dirname, 'bin', 'bundle.json'));
        if (!bundle) b.badInput('source bundled: this build of the extension bundles no bosun binary (build it with `make vsix` after `make static`)');
        src = path.join(__dirname, 'bin', path.basename(bundle.file));
        if (sha256File(src) !== bundle.sha256) b.badInput(`the bundled binary does not match its recorded SHA-256 ${bundle.sha256}: the extension is damaged`);
        if (want && want !== bundle.sha256) b.badInput(`sha256: the bundled binary is ${bundle.sha256}, not ${want}`);
        version = version || cacheVersion(bundle.version);
    } else if (source === 'url' || source === 'file') {
        if (!want) b.badInput(`sha256: required for source ${source}`);
        if (!version) b.badInput(`version: required for source ${source}`);
        if (source === 'url') {
            const url = b.strInput('url', true);
            if (!/^https?:\/\//.test(url)) b.badInput(`url: not an http(s) URL: ${url}`);
            try {
                downloaded = await toolLib.downloadTool(url);
            } catch (e) {
                throw new Error(`download ${url}: ${e.message}`);
            }
            src = downloaded;
        } else {
            src = b.pathInput('file', true);
            if (!fs.existsSync(src) || !fs.statSync(src).isFile()) b.badInput(`file: no such file: ${src}`);
        }
        const got = sha256File(src);
        if (got !== want) {
            if (downloaded) fs.rmSync(downloaded, { force: true });
            b.badInput(`SHA-256 mismatch for bosun ${version}: want ${want}, got ${got}; nothing installed`);
        }
    } else {
        b.badInput(`source: "${source}" is not bundled, url or file`);
    }
    const sum = sha256File(src);
    let dir = toolLib.findLocalTool('bosun', version);
    if (dir && fs.existsSync(path.join(dir, 'bosun')) && sha256File(path.join(dir, 'bosun')) === sum) {
        console.log(`bosun ${version} is in the tool cache: ${dir}`);
    } else {
        dir = await toolLib.cacheFile(src, 'bosun', 'bosun', version);
    }
    if (downloaded) fs.rmSync(downloaded, { force: true });
    fs.chmodSync(path.join(dir, 'bosun'), 0o755);
    toolLib.prependPath(dir);
    tl.setVariable('bosunPath', path.join(dir, 'bosun'), false, true);
    tl.setVariable('bosunVersion', version, false, true);
    const rc = await tl.tool(path.join(dir, 'bosun')).arg('version').execAsync({ ignoreReturnCode: true });
    if (rc !== 0) {
        tl.setResult(tl.TaskResult.Failed, `the installed bosun does not run on this agent: exit ${rc}`);
        return;
    }
    tl.setResult(tl.TaskResult.Succeeded, `bosun ${version} (sha256 ${sum}) on the PATH`);
}

b.main(run);
