#!/usr/bin/env python3
"""Runs one Azure Pipelines task the way the agent's Node20_1 handler does:
`node` on the target named in the task's task.json, in
System.DefaultWorkingDirectory, with the agent's variables and every
declared input as INPUT_<NAME> (the given value, else the task.json
default; filePath inputs rooted at System.DefaultWorkingDirectory), then
reads the ##vso logging commands back from stdout.

usage: agent.py TASKDIR SPEC.json OUT.json
SPEC: {"vars": {"AGENT_TEMPDIRECTORY": ...}, "inputs": {"tags": ...},
       "path": [dirs prepended to PATH], "env": {extra environment}}
OUT:  {"rc", "result", "message", "outputs": {name: value}, "variables",
       "issues": [[type, message]], "prependpath": [...],
       "commands": [[command, properties, message]], "stdout", "stderr"}"""
import json
import os
import re
import subprocess
import sys

task_dir, spec_path, out_path = (os.path.abspath(a) for a in sys.argv[1:4])
spec = json.load(open(spec_path))
task = json.load(open(os.path.join(task_dir, "task.json")))
target = task["execution"]["Node20_1"]["target"]
wd = spec["vars"]["SYSTEM_DEFAULTWORKINGDIRECTORY"]

env = {k: os.environ[k] for k in ("HOME", "LANG", "TMPDIR") if k in os.environ}
# sanitizer settings of `make check-asan` reach the bosun under test
env.update({k: v for k, v in os.environ.items() if k.startswith(("ASAN_", "UBSAN_", "LSAN_"))})
env["PATH"] = os.pathsep.join(spec.get("path", []) + [os.environ["PATH"]])
env.update(spec["vars"])
env.update(spec.get("env", {}))
given = spec.get("inputs", {})
for inp in task.get("inputs", []):
    name = inp["name"]
    v = given.get(name, inp.get("defaultValue", ""))
    if isinstance(v, bool):
        v = "true" if v else "false"
    v = str(v)
    if inp["type"] == "filePath":
        v = os.path.join(wd, v) if v else wd
    env["INPUT_" + name.upper()] = v
for name in given:
    if name not in {i["name"] for i in task.get("inputs", [])}:
        sys.exit(f"agent.py: input {name} is not declared in {task_dir}/task.json")

p = subprocess.run(["node", os.path.join(task_dir, target)], cwd=wd, env=env,
                   capture_output=True, timeout=600)
stdout = p.stdout.decode("utf-8", "replace")

def unesc_prop(s):
    return (s.replace("%3B", ";").replace("%0D", "\r").replace("%0A", "\n")
             .replace("%5D", "]").replace("%AZP25", "%"))

def unesc_msg(s):
    return s.replace("%0D", "\r").replace("%0A", "\n").replace("%AZP25", "%")

out = {"rc": p.returncode, "result": None, "message": None, "outputs": {}, "variables": {},
       "issues": [], "prependpath": [], "commands": [], "stdout": stdout,
       "stderr": p.stderr.decode("utf-8", "replace")}
for line in stdout.splitlines():
    i = line.find("##vso[")
    if i < 0:
        continue
    m = re.match(r"##vso\[([A-Za-z0-9.]+)(?: ([^\]]*))?\](.*)$", line[i:])
    if not m:
        continue
    cmd, props_s, msg = m.group(1), m.group(2) or "", unesc_msg(m.group(3))
    props = {}
    for kv in props_s.split(";"):
        if "=" in kv:
            k, v = kv.split("=", 1)
            props[k.strip()] = unesc_prop(v)
    out["commands"].append([cmd, props, msg])
    if cmd == "task.complete":
        out["result"], out["message"] = props.get("result"), msg
    elif cmd == "task.setvariable":
        out["variables"][props["variable"]] = msg
        if props.get("isOutput") == "true":
            out["outputs"][props["variable"]] = msg
    elif cmd in ("task.issue", "task.logissue"):
        out["issues"].append([props.get("type"), msg])
    elif cmd == "task.prependpath":
        out["prependpath"].append(msg)
json.dump(out, open(out_path, "w"), indent=1)
