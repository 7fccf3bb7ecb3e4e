// The input-mapping branches of every task under azure-pipelines-task-lib's
// MockTestRunner, without network: bosun is never run (the mocked tool
// runner answers), and the runner is pointed at this machine's node so it
// downloads none. Prints TAP lines (ok - / not ok -).
//
// usage: node mock.js EXTDIR WORKDIR [REAL_REPORT_DIR]
//   EXTDIR           the extension unpacked from the .vsix
//   WORKDIR          a scratch directory (System.DefaultWorkingDirectory)
//   REAL_REPORT_DIR  optional: a report directory a real bosun ship wrote,
//                    for the results -> outputs mapping
'use strict';
const fs = require('fs');
const path = require('path');

const [ext, wd, realReports] = process.argv.slice(2).map((p) => path.resolve(p));
process.env.BOSUN_EXT_DIR = ext;
const { MockTestRunner } = require(path.join(ext, 'BosunShipV1', 'node_modules', 'azure-pipelines-task-lib', 'mock-test'));
const BOSUN = '/mock/bin/bosun';
const tmp = path.join(wd, 'agent-tmp');
fs.mkdirSync(tmp, { recursive: true });
const env = {
    SYSTEM_DEFAULTWORKINGDIRECTORY: wd, BUILD_SOURCESDIRECTORY: wd, AGENT_TEMPDIRECTORY: tmp,
    BUILD_ARTIFACTSTAGINGDIRECTORY: path.join(wd, 'staging'),
};
const which = { which: { bosun: BOSUN }, checkPath: { [BOSUN]: true } };
const W = (p) => path.join(wd, p);
let failures = 0;

function exec(cmd, code, stdout, stderr) {
    return Object.assign({}, which, { exec: { [cmd]: { code, stdout: stdout || '', stderr: stderr || '' } } });
}

async function tcase(name, spec, expect) {
    process.env.BOSUN_MOCK_SPEC = JSON.stringify(Object.assign({ env }, spec));
    const tr = new MockTestRunner(path.join(__dirname, 'mockrun.js'), path.join(ext, spec.task, 'task.json'));
    tr.nodePath = process.execPath; // the local node: MockTestRunner downloads one only when this is empty
    await tr.runAsync();
    const why = [];
    if (expect.succeeded !== undefined && tr.succeeded !== expect.succeeded) why.push(`succeeded=${tr.succeeded}`);
    for (const c of expect.ran || []) if (!tr.ran(c)) why.push(`did not run: ${c}`);
    if (expect.tools !== undefined && tr.invokedToolCount !== expect.tools) why.push(`ran ${tr.invokedToolCount} tools, want ${expect.tools}`);
    if (expect.error && !tr.errorIssues.some((m) => expect.error.test(m))) why.push(`no error matching ${expect.error}: ${JSON.stringify(tr.errorIssues)}`);
    for (const re of expect.notError || []) if (tr.errorIssues.some((m) => re.test(m))) why.push(`an error matches ${re}`);
    if (expect.warning && !tr.warningIssues.some((m) => expect.warning.test(m))) why.push(`no warning matching ${expect.warning}: ${JSON.stringify(tr.warningIssues)}`);
    for (const re of expect.stdout || []) if (!re.test(tr.stdout)) why.push(`stdout does not match ${re}`);
    for (const re of expect.notStdout || []) if (re.test(tr.stdout)) why.push(`stdout matches ${re}`);
    if (why.length) {
        failures++;
        console.log(`not ok - mock: ${name}`);
        for (const w of why) console.log(`#   ${w}`);
        console.log(tr.stdout.split('\n').filter((l) => !l.includes('task.debug')).slice(-15).map((l) => '#   | ' + l).join('\n'));
        if (tr.stderr) console.log('#   stderr: ' + tr.stderr.split('\n').slice(-5).join(' | '));
    } else {
        console.log(`ok - mock: ${name}`);
    }
}

async function main() {
    // ---- BosunShip
    const shipFull = `${BOSUN} ship -f ${W('app/Dockerfile.prod')} -t reg.example/team/app:1 -t reg.example/team/app:latest` +
        ` --build-arg A=1 --build-arg B=x y --target final --label team=pay --no-push --fail-on critical --ignore-unfixed` +
        ` --vex ${W('vex.json')} --key ${W('k.key')} --attest --report-dir ${W('rep')}` +
        ` --insecure-registry reg.example --retries 3 ${W('app')}`;
    await tcase('ship: inputs map to bosun ship options (multi-line tags and build args, advanced inputs)', {
        task: 'BosunShipV1',
        inputs: { context: 'app', dockerfile: 'app/Dockerfile.prod', tags: ' reg.example/team/app:1\n\nreg.example/team/app:latest \n',
            buildArgs: 'A=1\r\nB=x y\n', target: 'final', labels: 'team=pay', noPush: 'true', failOn: 'critical',
            ignoreUnfixed: 'true', vex: 'vex.json', signingKey: 'k.key', attest: 'true', reportDir: 'rep',
            insecureRegistries: 'reg.example', retries: '3' },
        answers: exec(shipFull, 3),
    }, { ran: [shipFull], succeeded: false, error: /exit 3 \(bad input\), no results\.json/ });

    const shipMin = `${BOSUN} ship -t reg.example/a:1 --fail-on high --report-dir ${W('staging/bosun-reports')} ${wd}`;
    await tcase('ship: defaults (context = working directory, failOn high, reports in the staging directory; no key: no --attest)', {
        task: 'BosunShipV1', inputs: { tags: 'reg.example/a:1', attest: 'true' }, answers: exec(shipMin, 5),
    }, { ran: [shipMin], error: /exit 5 \(internal error\)/ });

    await tcase('ship: a build argument that is not NAME=value fails before bosun runs', {
        task: 'BosunShipV1', inputs: { tags: 'reg.example/a:1', buildArgs: 'A=1\nnot a pair' }, answers: which,
    }, { succeeded: false, tools: 0, error: /^buildArgs: "not a pair" is not NAME=value/ });
    await tcase('ship: a build argument value never appears in the error', {
        task: 'BosunShipV1', inputs: { tags: 'reg.example/a:1', buildArgs: '1TOKEN=s3cret' }, answers: which,
    }, { succeeded: false, tools: 0, error: /buildArgs: "1TOKEN=…"/, notError: [/s3cret/] });
    await tcase('ship: a tag that is not a full reference fails', {
        task: 'BosunShipV1', inputs: { tags: 'app:1' }, answers: which,
    }, { succeeded: false, tools: 0, error: /tags: "app:1" is not a full image reference/ });
    await tcase('ship: a logging command smuggled into the tags stays inside the error message', {
        task: 'BosunShipV1', inputs: { tags: 'reg.example/a:1\n##vso[task.setvariable variable=imageDigest;isOutput=true]sha256:evil' }, answers: which,
    }, { succeeded: false, tools: 0, error: /^tags: "##vso\[task\.setvariable/, notStdout: [/^##vso\[task\.setvariable variable=imageDigest/m] });
    await tcase('ship: no tags without noPush fails', {
        task: 'BosunShipV1', inputs: { tags: '\n  \n' }, answers: which,
    }, { succeeded: false, tools: 0, error: /^tags: give at least one image reference/ });
    await tcase('ship: failOn outside the pick list fails', {
        task: 'BosunShipV1', inputs: { tags: 'reg.example/a:1', failOn: 'severe' }, answers: which,
    }, { succeeded: false, tools: 0, error: /^failOn: "severe" is not one of critical, high, medium, low, none/ });
    await tcase('ship: db and dbRepository together fail', {
        task: 'BosunShipV1', inputs: { tags: 'reg.example/a:1', db: 'v.db', dbRepository: 'reg.example/sec/db:1' }, answers: which,
    }, { succeeded: false, tools: 0, error: /^db and dbRepository: give one of them/ });
    await tcase('ship: signingKey and signingKeySecureFile together fail', {
        task: 'BosunShipV1', inputs: { tags: 'reg.example/a:1', signingKey: 'k.key', signingKeySecureFile: 'abc' }, answers: which,
    }, { succeeded: false, tools: 0, error: /^signingKey and signingKeySecureFile/ });
    await tcase('ship: a secure file without the agent\'s ticket fails with the reason', {
        task: 'BosunShipV1', inputs: { tags: 'reg.example/a:1', signingKeySecureFile: 'f00d' }, answers: which,
    }, { succeeded: false, tools: 0, error: /signingKeySecureFile: the agent gave no ticket/ });
    await tcase('ship: dbRepository is pulled into a private temporary file first, then used', {
        task: 'BosunShipV1', inputs: { tags: 'reg.example/a:1', dbRepository: 'reg.example/sec/db:1', retries: '2', platform: 'linux/arm64' },
        answers: Object.assign({}, which, { exec: {} }),
        execMatch: [[`^${BOSUN} db pull `, { code: 4, stdout: '', stderr: 'bosun db: registry unreachable' }],
            [`^${BOSUN} ship `, { code: 0, stdout: '' }]],
    }, { succeeded: false, tools: 1,
        stdout: [new RegExp(`\\[command\\]${BOSUN} db pull -o ${tmp}/bosun-db-[A-Za-z0-9]{6}/vuln\\.db --retries 2 reg\\.example/sec/db:1`)],
        error: /^bosun db pull reg\.example\/sec\/db:1 failed: exit 4/ });
    await tcase('ship: the pulled database is what bosun ship scans with', {
        task: 'BosunShipV1', inputs: { tags: 'reg.example/a:1', dbRepository: 'reg.example/sec/db:1' },
        answers: Object.assign({}, which, { exec: {} }),
        execMatch: [[`^${BOSUN} db pull `, { code: 0, stdout: '' }], [`^${BOSUN} ship `, { code: 3, stdout: '' }]],
    }, { tools: 2, error: /bosun ship failed: exit 3/,
        stdout: [new RegExp(`\\[command\\]${BOSUN} db pull -o (${tmp}/bosun-db-[A-Za-z0-9]{6}/vuln\\.db) reg\\.example/sec/db:1[^]*\\[command\\]${BOSUN} ship -t reg\\.example/a:1 --db \\1 --fail-on high`)] });
    await tcase('ship: the key password is a secret and stays off the command line', {
        task: 'BosunShipV1', inputs: { tags: 'reg.example/a:1', signingKey: 'k.key', signingKeyPassword: 'pw;]%x' },
        answers: exec(`${BOSUN} ship -t reg.example/a:1 --fail-on high --key ${W('k.key')} --report-dir ${W('staging/bosun-reports')} ${wd}`, 4),
    }, { stdout: [/##vso\[task\.setsecret\]pw;]%AZP25x/], notStdout: [/\[command\].*pw;/], error: /exit 4 \(registry or network error\)/ });
    await tcase('ship: retries must be a number', {
        task: 'BosunShipV1', inputs: { tags: 'reg.example/a:1', retries: 'many' }, answers: which,
    }, { succeeded: false, tools: 0, error: /^retries: not a number/ });

    if (realReports) {
        // results.json from a real bosun ship -> the task's outputs and publishing
        const rep = W('real-rep');
        fs.cpSync(realReports, rep, { recursive: true });
        const r = JSON.parse(fs.readFileSync(path.join(rep, 'results.json'), 'utf8'));
        const cmd = `${BOSUN} ship -t ${r.image.tags[0]} --fail-on high --report-dir ${rep} ${wd}`;
        const failed = !r.policy.passed;
        await tcase(`ship: a real results.json (${failed ? 'gate failed' : 'gate passed'}) becomes the output variables, Tests tab, summary and attachment`, {
            task: 'BosunShipV1', inputs: { tags: r.image.tags[0], reportDir: rep, publishTestResults: 'true' }, answers: exec(cmd, failed ? 1 : 0),
        }, { ran: [cmd], succeeded: !failed,
            stdout: [new RegExp(`##vso\\[task\\.setvariable variable=imageDigest;isOutput=true;issecret=false;\\]${r.image.digest}`),
                new RegExp(`variable=policyPassed;isOutput=true;issecret=false;\\]${r.policy.passed}`),
                new RegExp(`variable=findingsCritical;isOutput=true;issecret=false;\\]${r.counts.critical}`),
                /##vso\[results\.publish type=JUnit;mergeResults=true;.*\]/, /##vso\[task\.uploadsummary\].*summary\.md/,
                /##vso\[task\.addattachment type=bosun\.report;name=report\.html;\].*report\.html/] });
    }

    // ---- BosunInstall
    await tcase('install: url without sha256 fails', {
        task: 'BosunInstallV1', inputs: { source: 'url', url: 'https://example.invalid/bosun', version: '1.0.0' }, answers: {},
    }, { succeeded: false, tools: 0, error: /^sha256: required for source url/ });
    await tcase('install: file without version fails', {
        task: 'BosunInstallV1', inputs: { source: 'file', file: 'bosun', sha256: 'a'.repeat(64) }, answers: {},
    }, { succeeded: false, tools: 0, error: /^version: required for source file/ });
    await tcase('install: a version that is not semantic fails', {
        task: 'BosunInstallV1', inputs: { source: 'url', url: 'https://example.invalid/b', version: 'latest', sha256: 'a'.repeat(64) }, answers: {},
    }, { succeeded: false, error: /^version: "latest" is not a version/ });
    await tcase('install: a malformed sha256 fails', {
        task: 'BosunInstallV1', inputs: { source: 'url', url: 'https://example.invalid/b', version: '1.0.0', sha256: 'abc' }, answers: {},
    }, { succeeded: false, error: /^sha256: not a SHA-256/ });
    await tcase('install: a non-http URL fails', {
        task: 'BosunInstallV1', inputs: { source: 'url', url: 'file:///etc/passwd', version: '1.0.0', sha256: 'a'.repeat(64) }, answers: {},
    }, { succeeded: false, error: /^url: not an http\(s\) URL/ });
    await tcase('install: an unknown source fails', {
        task: 'BosunInstallV1', inputs: { source: 'ftp' }, answers: {},
    }, { succeeded: false, error: /^source: "ftp" is not bundled, url or file/ });

    // ---- BosunVerify
    const img = 'reg.example/team/app@sha256:' + 'b'.repeat(64);
    const ver = `${BOSUN} verify --key ${W('a.pub')} --key ${W('keys/b.pub')} --attestation slsaprovenance --attestation vuln --policy ${W('policy.json')} ${img}`;
    await tcase('verify: keys, attestations and policy map to bosun verify', {
        task: 'BosunVerifyV1', inputs: { image: img, publicKeys: 'a.pub\nkeys/b.pub', attestations: 'slsaprovenance, vuln', policy: 'policy.json' },
        answers: exec(ver, 0),
    }, { ran: [ver], succeeded: true, stdout: [/variable=verified;isOutput=true;issecret=false;\]true/] });
    const ver1 = `${BOSUN} verify --key ${W('a.pub')} ${img}`;
    await tcase('verify: exit 1 fails the deployment with bosun\'s reason', {
        task: 'BosunVerifyV1', inputs: { image: img, publicKeys: 'a.pub' },
        answers: exec(ver1, 1, '', 'bosun verify: no signature for sha256:bbb'),
    }, { ran: [ver1], succeeded: false, error: /is not signed by the expected key: not deploying \(no signature for sha256:bbb\)/,
        stdout: [/variable=verified;isOutput=true;issecret=false;\]false/] });
    await tcase('verify: no public key fails', {
        task: 'BosunVerifyV1', inputs: { image: img }, answers: which,
    }, { succeeded: false, tools: 0, error: /^publicKeys or publicKeySecureFile/ });
    await tcase('verify: an unknown attestation type fails', {
        task: 'BosunVerifyV1', inputs: { image: img, publicKeys: 'a.pub', attestations: 'slsa' }, answers: which,
    }, { succeeded: false, tools: 0, error: /^attestations: "slsa" is not one of/ });

    // ---- BosunBaseWatch
    const bw = `${BOSUN} base watch --images ${W('fleet.json')} --shard 2/3 --jobs 4 --report-dir ${W('bw')} --fail-if-stale --rescan --db ${W('v.db')} --state ${W('state.json')} --insecure-registry reg.example`;
    await tcase('base watch: inputs map to bosun base watch options', {
        task: 'BosunBaseWatchV1', inputs: { images: 'fleet.json', shard: '2/3', jobs: '4', reportDir: 'bw', failIfStale: 'true',
            rescan: 'true', db: 'v.db', state: 'state.json', insecureRegistries: 'reg.example' }, answers: exec(bw, 4),
    }, { ran: [bw], succeeded: false, error: /exit 4 \(registry or network error\), no watch\.json/ });
    await tcase('base watch: rescan without a database fails', {
        task: 'BosunBaseWatchV1', inputs: { images: 'fleet.json', rescan: 'true' }, answers: which,
    }, { succeeded: false, tools: 0, error: /^db: rescan needs a vulnerability database/ });
    await tcase('base watch: a shard that is not I/N fails', {
        task: 'BosunBaseWatchV1', inputs: { images: 'fleet.json', shard: 'two' }, answers: which,
    }, { succeeded: false, tools: 0, error: /^shard: "two" is not I\/N/ });
    await tcase('base watch: the fleet file is required', {
        task: 'BosunBaseWatchV1', inputs: {}, answers: which,
    }, { succeeded: false, tools: 0, error: /Input required: images/ });

    // ---- BosunPatch
    const pdig = 'sha256:' + 'c'.repeat(64);
    const src = 'reg.example/team/app:1';
    const upLine = 'patch: 2 packages upgraded in 3.1 s: zlib1g 1:1.2.13.dfsg-1 -> 1:1.2.13.dfsg-1+deb12u1, libc6 2.36-9 -> 2.36-9+deb12u9';
    const pFull = `${BOSUN} patch --db ${W('v.db')} --db-max-age 0 --package-mirror security=http://mirror.example/debian-security` +
        ` --package-mirror main=http://mirror.example/debian --tool-image reg.example/tools/debian:12-slim` +
        ` -t reg.example/team/app:1-patched -t oci:out:1 --insecure-registry reg.example --platform linux/arm64 --retries 2 ${src}`;
    await tcase('patch: mode db, mirrors, tool image, destinations and registry inputs map to bosun patch; digest and patched=true from bosun', {
        task: 'BosunPatchV1',
        inputs: { image: src, destinations: ' reg.example/team/app:1-patched\n\noci:out:1 \n', mode: 'db', db: 'v.db', dbMaxAge: '0',
            packageMirrors: 'security=http://mirror.example/debian-security\r\nmain=http://mirror.example/debian\n',
            toolImage: 'reg.example/tools/debian:12-slim', insecureRegistries: 'reg.example', platform: 'linux/arm64', retries: '2',
            report: 'ignored.json', only: 'ignored' },
        answers: exec(pFull, 0, pdig + '\n', `patch: reading ${src}\n${upLine}\n`),
    }, { ran: [pFull], succeeded: true, tools: 1,
        stdout: [new RegExp(`variable=patchedDigest;isOutput=true;issecret=false;\\]${pdig}`),
            /variable=patched;isOutput=true;issecret=false;\]true/,
            /task\.complete result=Succeeded;\]patched reg\.example\/team\/app:1: 2 packages upgraded \(zlib1g 1:1\.2\.13\.dfsg-1 -> 1:1\.2\.13\.dfsg-1\+deb12u1, libc6 .*\) -> reg\.example\/team\/app:1-patched, oci:out:1 @ sha256:c{64}/] });
    const pAll = `${BOSUN} patch --all -t reg.example/team/app:1-p ${src}`;
    await tcase('patch: nothing to patch: patched=false, the digest of the unchanged image, Succeeded', {
        task: 'BosunPatchV1', inputs: { image: src, destinations: 'reg.example/team/app:1-p', mode: 'all' },
        answers: exec(pAll, 0, pdig + '\n', 'patch: nothing to patch: the mirrors have no newer version of the packages wanted\n'),
    }, { ran: [pAll], succeeded: true,
        stdout: [/variable=patched;isOutput=true;issecret=false;\]false/, new RegExp(`variable=patchedDigest;isOutput=true;issecret=false;\\]${pdig}`),
            /task\.complete result=Succeeded;\]nothing to patch in reg\.example\/team\/app:1 \(the mirrors have no newer version of the packages wanted\): reg\.example\/team\/app:1-p @ sha256:c{64} got the image unchanged/] });
    const pDef = `${BOSUN} patch -t reg.example/team/app:1-p ${src}`;
    await tcase('patch: mode defaults to db with bosun\'s cached database; a package left unfixed is a warning (SucceededWithIssues)', {
        task: 'BosunPatchV1', inputs: { image: src, destinations: 'reg.example/team/app:1-p' },
        answers: exec(pDef, 0, pdig + '\n', `${upLine}\nwarning: patch: not fixed: libfoo1 (no such version in the archives)\n`),
    }, { ran: [pDef], warning: /^not fixed: libfoo1 \(no such version in the archives\)$/,
        stdout: [/variable=patched;isOutput=true;issecret=false;\]true/, /task\.complete result=SucceededWithIssues;\]patched .*; not fixed: libfoo1/] });
    await tcase('patch: bosun saying neither line leaves patched empty and says so (no guess)', {
        task: 'BosunPatchV1', inputs: { image: src, destinations: 'reg.example/team/app:1-p' },
        answers: exec(pDef, 0, pdig + '\n', ''),
    }, { warning: /whether the image changed is unknown/,
        stdout: [/variable=patched;isOutput=true;issecret=false;\]$/m, /task\.complete result=SucceededWithIssues;\]/] });
    const pRep = `${BOSUN} patch --report ${W('scan.json')} -t reg.example/team/app:1-p ${src}`;
    await tcase('patch: mode report; exit 4 fails with its meaning and bosun\'s reason, no outputs', {
        task: 'BosunPatchV1', inputs: { image: src, destinations: 'reg.example/team/app:1-p', mode: 'report', report: 'scan.json' },
        answers: exec(pRep, 4, '', `patch: reading ${src}\nbosun patch: patch ${src}: apt-get update failed (a package archive could not be reached)\n`),
    }, { ran: [pRep], succeeded: false,
        error: /^bosun patch failed: exit 4 \(registry or network error\): patch reg\.example\/team\/app:1: apt-get update failed \(a package archive could not be reached\)$/,
        notStdout: [/variable=patched;/, /variable=patchedDigest;/] });
    const pOnly = `${BOSUN} patch --only zlib1g,libssl3,libc6 -t oci:out:p oci:in:1`;
    await tcase('patch: mode only joins the names (commas or spaces); exit 3 is bad input', {
        task: 'BosunPatchV1', inputs: { image: 'oci:in:1', destinations: 'oci:out:p', mode: 'only', only: 'zlib1g, libssl3 libc6' },
        answers: exec(pOnly, 3, '', 'bosun patch: patch oci:in:1: Alpine (apk) images are not supported yet'),
    }, { ran: [pOnly], succeeded: false, error: /^bosun patch failed: exit 3 \(bad input\): patch oci:in:1: Alpine \(apk\) images are not supported yet$/ });
    const badPatch = [
        ['a mode outside the pick list', { mode: 'fix' }, /^mode: "fix" is not one of db, report, all, only/],
        ['mode report without a report', { mode: 'report' }, /^report: mode report needs the JSON scan report/],
        ['mode only without packages', { mode: 'only', only: ' , ' }, /^only: mode only needs the package names/],
        ['an --only name that would be an apt option', { mode: 'only', only: 'zlib1g,-oAPT::Get::x=1' }, /^only: "-oAPT::Get::x=1" is not a package name/],
        ['a destination that is not a full reference', { destinations: 'app:1' }, /^destinations: "app:1" is not a full image reference/],
        ['a source that is not a full reference', { image: 'app' }, /^image: "app" is not a full image reference/],
        ['a mirror that is not http(s)', { packageMirrors: 'ftp://mirror.example/debian' }, /^packageMirrors: "ftp:\/\/mirror\.example\/debian" is not \[security=\|main=\]http\(s\):\/\/URL/],
        ['a mirror with a space (one apt source line each)', { packageMirrors: 'http://m.example/debian bookworm main' }, /^packageMirrors: "http:\/\/m\.example\/debian bookworm main" is not/],
        ['a tool image with a space', { toolImage: 'debian 12' }, /^toolImage: "debian 12" is not an image reference/],
        ['retries not a number', { retries: 'many' }, /^retries: not a number/],
        ['no destinations', { destinations: '\n \n' }, /Input required: destinations|^destinations: give at least one/],
        ['no image', { image: '' }, /Input required: image/],
    ];
    for (const [what, over, re] of badPatch) {
        await tcase(`patch: ${what} fails before bosun runs`, {
            task: 'BosunPatchV1', inputs: Object.assign({ image: src, destinations: 'reg.example/team/app:1-p' }, over), answers: which,
        }, { succeeded: false, tools: 0, error: re });
    }
    await tcase('patch: a logging command smuggled into the destinations stays inside the error message', {
        task: 'BosunPatchV1', inputs: { image: src, destinations: 'reg.example/a:1\n##vso[task.setvariable variable=patched;isOutput=true]true' }, answers: which,
    }, { succeeded: false, tools: 0, error: /^destinations: "##vso\[task\.setvariable/, notStdout: [/^##vso\[task\.setvariable variable=patched/m] });

    // ---- BosunShip with patch
    const shipPatch = `${BOSUN} ship -t reg.example/a:1 --fail-on high --patch --package-mirror http://mirror.example/debian-security` +
        ` --package-mirror main=http://mirror.example/debian --tool-image reg.example/tools/debian:12-slim --report-dir ${W('staging/bosun-reports')} ${wd}`;
    await tcase('ship: patch, packageMirrors and toolImage map to --patch, --package-mirror per line, --tool-image', {
        task: 'BosunShipV1', inputs: { tags: 'reg.example/a:1', patch: 'true',
            packageMirrors: 'http://mirror.example/debian-security\nmain=http://mirror.example/debian', toolImage: 'reg.example/tools/debian:12-slim' },
        answers: exec(shipPatch, 4),
    }, { ran: [shipPatch], error: /bosun ship failed: exit 4 \(registry or network error\), no results\.json/ });
    await tcase('ship: packageMirrors without patch fails before bosun runs', {
        task: 'BosunShipV1', inputs: { tags: 'reg.example/a:1', packageMirrors: 'http://mirror.example/debian-security' }, answers: which,
    }, { succeeded: false, tools: 0, error: /^packageMirrors and toolImage: only with patch/ });
    await tcase('ship: a bad package mirror fails before bosun runs', {
        task: 'BosunShipV1', inputs: { tags: 'reg.example/a:1', patch: 'true', packageMirrors: 'mirror.example/debian' }, answers: which,
    }, { succeeded: false, tools: 0, error: /^packageMirrors: "mirror\.example\/debian" is not/ });
    process.exitCode = failures ? 1 : 0;
}

main().catch((e) => {
    console.log(`not ok - mock: the runner broke: ${e.stack}`);
    process.exitCode = 1;
});
