"""Runs the adversarial suite's programs through ``seer.sandbox.run_tests``; prints verdicts as JSON.

    python worker.py JOBS.json > RESULTS.json

Started by tests/test_sandbox_adversarial.py once per mode (as root, or as a throwaway user), so
one process runs every program of a mode, two at a time. It is a child subreaper: a program that
escapes the sandbox's process tree by double fork + setsid is re-parented here and listed in
``descendants`` instead of vanishing into init (killed ones, zombies, are reaped here). Before the
programs it runs a canary (a program that sleeps while named with the marker, ``PR_SET_NAME``)
and records whether a process with the marker was visible meanwhile, so the suite's "no marked
process is left" check cannot pass vacuously.
"""
from __future__ import annotations

import ctypes
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from seer.data.schemas import Tests
from seer.sandbox import SandboxError, capabilities, run_tests

PR_SET_CHILD_SUBREAPER = 36


def run_one(job: dict[str, Any], timeout: float, memory_mb: int) -> dict[str, Any]:
    t0 = time.monotonic()
    try:
        r = run_tests(job["code"], Tests(**job["tests"]), timeout=timeout, memory_mb=memory_mb)
    except SandboxError as e:  # the harness failed on this program: a finding, not a crash
        return {"status": "harness-error", "tests": [], "stdout": "", "stderr": str(e),
                "duration": 0.0, "wall": time.monotonic() - t0}
    return {"status": r.status, "tests": [[t.status, t.detail] for t in r.tests], "stdout": r.stdout,
            "stderr": r.stderr, "duration": r.duration, "wall": time.monotonic() - t0}


def processes() -> dict[int, dict[str, Any]]:
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            status = Path(f"/proc/{d}/status").read_text()
            comm = Path(f"/proc/{d}/comm").read_text().strip()
        except OSError:
            continue
        f = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        out[int(d)] = {"ppid": int(f["PPid"]), "uid": int(f["Uid"].split()[0]), "comm": comm,
                       "state": f["State"].split()[0]}
    return out


def descendants() -> list[dict[str, Any]]:
    procs, me = processes(), os.getpid()
    found = []
    for pid, p in procs.items():
        q = p["ppid"]
        while q > 1 and q != me:
            q = procs.get(q, {"ppid": 0})["ppid"]
        if q == me:
            found.append({"pid": pid, **p})
    return found


def canary(marker: str, timeout: float, memory_mb: int) -> bool:
    code = (f"import ctypes\nctypes.CDLL(None).prctl(15, {marker + 'c'!r}.encode(), 0, 0, 0)\n"
            "import time\ntime.sleep(5)\n")
    job = {"code": code, "tests": {"kind": "assert", "cases": []}}
    t = threading.Thread(target=run_one, args=(job, timeout, memory_mb))
    t.start()
    seen = False
    while t.is_alive() and not seen:
        seen = any(p["comm"].startswith(marker) for p in processes().values())
        time.sleep(0.02)
    t.join()
    return seen


def main() -> None:
    jobs = json.loads(Path(sys.argv[1]).read_text())
    ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    timeout, memory_mb = jobs["timeout"], jobs["memory_mb"]
    caps = capabilities()
    out: dict[str, Any] = {"uid": os.getuid(), "mode": caps.mode, "memory_cgroup": caps.memory_cgroup,
                           "canary_seen": canary(jobs["marker"], timeout, memory_mb),
                           "results": {}, "controls_after": {}}
    with ThreadPoolExecutor(jobs["workers"]) as ex:
        for phase in jobs["phases"]:  # a phase starts when the previous one has ended
            rs = ex.map(lambda j: run_one(j, timeout, memory_mb), phase)
            out["results"].update(zip([j["name"] for j in phase], rs))
        rs = ex.map(lambda j: run_one(j, timeout, memory_mb), jobs["controls_after"])
        out["controls_after"] = dict(zip([j["name"] for j in jobs["controls_after"]], rs))
    # a run's processes may take a moment to be torn down after its verdict (a loaded machine):
    # what is still there after a few seconds has outlived its run
    deadline = time.monotonic() + 5
    while True:
        out["descendants"] = descendants()
        for d in out["descendants"]:  # killed processes re-parented to us (the subreaper): reap them
            if d["state"] == "Z" and d["ppid"] == os.getpid() and d["uid"] != out["uid"]:
                os.waitpid(d["pid"], os.WNOHANG)
        strays = [d for d in out["descendants"] if d["state"] != "Z"
                  and (d["uid"] != out["uid"] or d["comm"].startswith(jobs["marker"]))]
        if not strays or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
