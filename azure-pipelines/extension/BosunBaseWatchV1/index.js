// BosunBaseWatch@1: the scheduled fleet check. bosun base watch checks the
// base of every image in the fleet file (optionally rescanning them), the
// task publishes the JUnit and the summary and sets the outputs a rebuild
// stage reads: baseImages, baseStaleCount, baseStaleImages,
// baseStalePipelines, baseErrorCount, baseNewFindings.
'use strict';
const fs = require('fs');
const path = require('path');
const tl = require('azure-pipelines-task-lib/task');
const b = require('./bosun-task');

async function run() {
    const images = b.pathInput('images', true);
    const args = ['base', 'watch', '--images', images];
    const shard = b.strInput('shard');
    if (shard) {
        if (!/^\d+\/\d+$/.test(shard)) b.badInput(`shard: "${shard}" is not I/N, e.g. $(shard)/$(shardCount)`);
        args.push('--shard', shard);
    }
    const jobs = b.strInput('jobs');
    if (jobs) {
        if (!/^\d+$/.test(jobs)) b.badInput(`jobs: not a number: ${jobs}`);
        args.push('--jobs', jobs);
    }
    const reportDir = b.pathInput('reportDir') ||
        path.join(tl.getVariable('Build.ArtifactStagingDirectory') || b.tempDir(), 'bosun-base-watch');
    args.push('--report-dir', reportDir);
    const failIfStale = tl.getBoolInput('failIfStale');
    if (failIfStale) args.push('--fail-if-stale');
    const rescan = tl.getBoolInput('rescan');
    if (rescan) {
        const db = b.pathInput('db');
        if (!db) b.badInput('db: rescan needs a vulnerability database file');
        args.push('--rescan', '--db', db);
        const state = b.pathInput('state');
        if (state) args.push('--state', state);
        const cacheDir = b.pathInput('cacheDir');
        if (cacheDir) args.push('--cache-dir', cacheDir);
    }
    const env = b.registryEnv('dockerRegistryServiceConnection');
    args.push(...b.registryArgs());

    const rc = await b.runBosun(args, env);
    const w = b.readJson(path.join(reportDir, 'watch.json'));
    if (!w) {
        tl.setResult(tl.TaskResult.Failed, `bosun base watch failed: exit ${rc} (${b.exitMeaning(rc)}), no watch.json in ${reportDir}`);
        return;
    }
    const list = Array.isArray(w.images) ? w.images : [];
    const stale = list.filter((i) => i.status === 'stale');
    const s = w.summary || {};
    const out = {
        baseImages: String(s.images ?? list.length),
        baseStaleCount: String(s.stale ?? stale.length),
        baseStaleImages: stale.map((i) => i.image).join(','),
        baseStalePipelines: [...new Set(stale.filter((i) => i.pipeline !== undefined && i.pipeline !== null && i.pipeline !== '')
            .map((i) => String(i.pipeline)))].join(','),
        baseErrorCount: String(s.errors ?? 0),
    };
    if (rescan) out.baseNewFindings = String(s.newFindings ?? 0);
    for (const [k, v] of Object.entries(out)) tl.setVariable(k, v, false, true);

    const junit = path.join(reportDir, 'junit.xml');
    if (tl.getBoolInput('publishTestResults') && fs.existsSync(junit)) {
        new tl.TestPublisher('JUnit').publish([junit], 'true', '', '', 'bosun base watch' + (shard ? ` ${shard}` : ''), 'true');
    }
    const summary = path.join(reportDir, 'summary.md');
    if (fs.existsSync(summary)) tl.uploadSummary(summary);
    for (const i of stale) {
        const m = `${i.image}: base ${(i.base && i.base.name) || '?'} is now ${(i.current && i.current.digest) || '?'}${i.pipeline ? ` (rebuild pipeline ${i.pipeline})` : ''}`;
        if (failIfStale) tl.error(m);
        else tl.warning(m);
    }
    for (const i of list.filter((x) => x.status === 'error')) {
        const why = i.error || i.note || 'could not be checked';
        tl.error(why.startsWith(i.image) ? why : `${i.image}: ${why}`);
    }

    const line = `${out.baseImages} images: ${out.baseStaleCount} stale, ${out.baseErrorCount} errors` +
        (rescan ? `, ${out.baseNewFindings} new findings` : '');
    if (rc !== 0 && rc !== 1) {
        tl.setResult(tl.TaskResult.Failed, `bosun base watch failed: exit ${rc} (${b.exitMeaning(rc)}); ${line}`);
    } else if (rc === 1 || (failIfStale && stale.length)) {
        tl.setResult(tl.TaskResult.Failed, `stale base images: ${out.baseStaleImages}`);
    } else if (stale.length || (rescan && Number(out.baseNewFindings) > 0)) {
        tl.setResult(tl.TaskResult.SucceededWithIssues, line);
    } else {
        tl.setResult(tl.TaskResult.Succeeded, line);
    }
}

b.main(run);
