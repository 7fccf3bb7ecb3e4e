// One task run under azure-pipelines-task-lib's TaskMockRunner: the task's
// own index.js with the mocked task library (no process is started; the
// answers say what `which`, `checkPath` and `exec` return). Run by
// MockTestRunner from mock.js; the case comes in BOSUN_MOCK_SPEC.
'use strict';
const path = require('path');
const spec = JSON.parse(process.env.BOSUN_MOCK_SPEC);
const taskDir = path.join(process.env.BOSUN_EXT_DIR, spec.task);
const mr = require(path.join(taskDir, 'node_modules', 'azure-pipelines-task-lib', 'mock-run'));
Object.assign(process.env, spec.env || {});
const tmr = new mr.TaskMockRunner(path.join(taskDir, 'index.js'));
for (const [k, v] of Object.entries(spec.inputs || {})) tmr.setInput(k, v);
const answers = spec.answers || {};
// execMatch: [[regex source, answer]] for command lines that hold a random
// temporary path (matched when no exact exec answer exists)
if (spec.execMatch) {
    const exact = answers.exec || {};
    answers.exec = new Proxy(exact, {
        get(t, k) {
            if (typeof k !== 'string') return t[k];
            if (k in t) return t[k];
            const m = spec.execMatch.find(([re]) => new RegExp(re).test(k));
            return m ? m[1] : undefined;
        },
    });
}
tmr.setAnswers(answers);
tmr.run();
