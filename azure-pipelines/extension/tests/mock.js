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
    process.exitCode = failures ? 1 : 0;
}

main().catch((e) => {
    console.log(`not ok - mock: the runner broke: ${e.stack}`);
    process.exitCode = 1;
});
