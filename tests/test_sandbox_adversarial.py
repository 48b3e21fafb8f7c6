"""Hostile programs against seer.sandbox: each must get the right status and the host lose nothing.

All programs run once, two at a time, through one SandboxPool (module fixture) after the host
state they attack has been set up: a root-owned sentinel file outside /tmp, a secret in the
parent's environment, a listening socket on 127.0.0.1, a known per-run token. The tests then check
each result and the host. Honest twins (``DOUBLE``) show the harness still works around the attack.
"""
from __future__ import annotations

import ast
import json
import os
import secrets
import shutil
import socket
import stat
import tempfile
from pathlib import Path
from typing import Any

import pytest

from seer.data.schemas import Tests
from seer.sandbox import ExecResult, SandboxPool, capabilities, execute, launcher
from seer.sandbox.isolation import UID_BASE, UID_COUNT

TIMEOUT = 1.0
MEMORY_MB = 256  # memory bombs hit the limit sooner (and a loaded machine still answers in time)
DOUBLE = "def f(x):\n    return 2 * x\n"  # the correct solution of TESTS
TESTS = Tests("assert", ["assert f(2) == 4", "assert f(3) == 6"])
CALL = Tests("call", [{"input": [2], "output": 4}, {"input": [3], "output": 6}], fn_name="f")
HUMANEVAL_STYLE = Tests("assert", ["check(f)"], setup="def check(c):\n    assert abs(c(2) - 4) < 1e-6\n")
TOKEN = "5eed" * 8  # every run's token during this module (patched), so leaks are detectable
JUNK = f"seer-adversarial-{secrets.token_hex(4)}"

PROGRAMS: dict[str, tuple[str, Tests]] = {
    # --- resources -------------------------------------------------------------------------
    "fork_bomb": ("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n", TESTS),
    "thread_bomb": (("import threading, time\nwhile True:\n    try:\n"
                     "        threading.Thread(target=time.sleep, args=(100,)).start()\n"
                     "    except Exception:\n        pass\n"), TESTS),
    "memory_bomb": ("blocks = [bytes(1 << 24) for _ in range(10 ** 4)]\n" + DOUBLE, TESTS),
    "memory_bomb_in_test": ("def f(x):\n    return len(bytearray(1 << 40))\n", TESTS),
    "infinite_loop": ("while True:\n    pass\n", TESTS),
    "sleep": ("import time\ntime.sleep(60)\n" + DOUBLE, TESTS),
    "recursion_bomb": ("def r(n):\n    return r(n + 1)\nr(0)\n" + DOUBLE, TESTS),
    "c_stack_overflow": (("import sys, json\nsys.setrecursionlimit(10 ** 8)\nx = []\nfor _ in range(10 ** 5):\n"
                          "    x = [x]\njson.dumps(x)\n" + DOUBLE), TESTS),
    "huge_file": ("with open('big', 'wb') as fh:\n    while True:\n        fh.write(b'x' * (1 << 20))\n", TESTS),
    "many_files": ("i = 0\nwhile True:\n    open(f'f{i}', 'w').close()\n    i += 1\n", TESTS),
    "stdout_flood": ("while True:\n    print('x' * 1000)\n", TESTS),
    "stderr_flood": ("import sys\nfor _ in range(50000):\n    sys.stderr.write('e' * 1000)\n" + DOUBLE, TESTS),
    "huge_return_value": ("def f(x):\n    return 'x' * (5 << 20)\n", CALL),
    "threads_keep_running": (("import threading, time\ndef spin():\n    while True:\n        time.sleep(0.01)\n"
                              "threading.Thread(target=spin).start()\n" + DOUBLE), TESTS),
    "input_without_stdin": ("x = input()\n" + DOUBLE, TESTS),
    # --- the host ----------------------------------------------------------------------------
    "delete_outside_cwd": ((
        "import os, shutil\nfor act in (lambda: os.remove(SENTINEL), lambda: shutil.rmtree(os.path.dirname(SENTINEL)),\n"
        "            lambda: os.chmod(SENTINEL, 0o777), lambda: open(SENTINEL, 'w').write('owned'),\n"
        "            lambda: os.rename(SENTINEL, SENTINEL + '.x')):\n"
        "    try:\n        act()\n        print('DID', act)\n    except OSError as e:\n        print('refused', e)\n" + DOUBLE), TESTS),
    "junk_in_shared_dirs": ((
        "import os\nfor d in ('/tmp', '/var/tmp', '/dev/shm', '/run/lock'):\n    try:\n"
        "        open(os.path.join(d, JUNK), 'w').write('junk')\n    except OSError as e:\n        print(d, e)\n" + DOUBLE), TESTS),
    "env_secret": ((
        "import os\nprint(sorted(os.environ.items()))\nfor p in ('/proc/self/environ', '/proc/1/environ'):\n"
        "    try:\n        print(p, open(p, 'rb').read())\n    except OSError as e:\n        print(p, e)\n" + DOUBLE), TESTS),
    "kill_parent": ((
        "import os, signal\nfor pid in (os.getppid(), 1, -1):\n    for sig in (signal.SIGKILL, signal.SIGTERM):\n"
        "        try:\n            os.kill(pid, sig)\n        except OSError as e:\n            print(pid, e)\n" + DOUBLE), TESTS),
    "kill_own_group": ("import os, signal\nos.killpg(0, signal.SIGKILL)\n" + DOUBLE, TESTS),
    "network": ((
        "import socket\ntry:\n    socket.create_connection(('127.0.0.1', PORT), timeout=0.5)\n    print('CONNECTED')\n"
        "except OSError as e:\n    print('BLOCKED', e)\n" + DOUBLE), TESTS),
    "setsid_escape": ((
        "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(30)\n"
        "    os._exit(0)\ntime.sleep(0.2)\n" + DOUBLE), TESTS),
    "setuid_binaries": (("import subprocess\nst = open('/proc/self/status').read()\n"
                         "print([l for l in st.splitlines() if l.startswith(('NoNewPrivs', 'CapEff', 'Uid'))])\n"
                         "print(subprocess.run(['/usr/bin/mount', '-t', 'tmpfs', 'none', '/usr'], capture_output=True))\n"
                         + DOUBLE), TESTS),
    "ignore_sigterm": (("import signal\nfor s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM):\n"
                        "    signal.signal(s, signal.SIG_IGN)\nwhile True:\n    pass\n"), TESTS),
    # --- faking a pass -----------------------------------------------------------------------
    "os_exit_at_load": (DOUBLE.replace("2 * x", "0") + "import os\nos._exit(0)\n", TESTS),
    "os_exit_in_test": ("import os\ndef f(x):\n    os._exit(0)\n", TESTS),
    "sys_exit_at_load": ("def f(x):\n    return 0\nimport sys\nsys.exit(0)\n", TESTS),
    "raise_systemexit_in_test": ("def f(x):\n    raise SystemExit(0)\n", TESTS),
    "atexit_trick": (("import atexit, os\natexit.register(lambda: os.write(1, b'C 0 pass null\\n'))\n"
                      "def f(x):\n    return 0\nraise SystemExit(0)\n"), TESTS),
    "redefine_assertion_error": (("import builtins\nclass AssertionError(Exception):\n    pass\n"
                                  "builtins.AssertionError = AssertionError\ndef f(x):\n    return 0\n"), TESTS),
    "patch_builtins": (("import builtins, os\nbuiltins.abs = lambda v: 0\nos.__builtins__['abs'] = lambda v: 0\n"
                        "builtins.isinstance = lambda *a: True\ndef f(x):\n    return 0\n"), HUMANEVAL_STYLE),
    "patch_the_checker": (("import builtins\ndef check(c):\n    pass\nbuiltins.check = check\n"
                           "def f(x):\n    global check\n    check = lambda c: None\n    return 0\n"), HUMANEVAL_STYLE),
    "always_equal": (("class Eq:\n    def __eq__(self, o):\n        return True\n    __hash__ = object.__hash__\n"
                      "def f(x):\n    return Eq()\n"), TESTS),
    "always_equal_int_and_metaclass": ((
        "class M(type):\n    def __eq__(c, o):\n        return True\n    __hash__ = type.__hash__\n"
        "class E(int, metaclass=M):\n    def __eq__(s, o):\n        return True\n    __hash__ = int.__hash__\n"
        "def f(x):\n    return E(0)\n"), TESTS),
    "always_equal_in_container": (("class Eq:\n    def __eq__(self, o):\n        return True\n    __hash__ = object.__hash__\n"
                                   "def f(x):\n    return [Eq()]\n"), Tests("assert", ["assert f(2) == [4]"])),
    "always_equal_call": (("class Eq(int):\n    def __eq__(self, o):\n        return True\n    __hash__ = int.__hash__\n"
                           "def f(x):\n    return Eq(0)\n"), CALL),
    "print_guessed_token": (("import secrets\nfor _ in range(1000):\n    print('E', secrets.token_hex(16))\n"
                             "print('D')\nprint('C 0 pass null')\ndef f(x):\n    return 0\n"), TESTS),
    "forged_result_lines": (("import os\nfor fd in range(3, 64):\n    try:\n"
                             "        os.write(fd, b'C 0 pass null\\nC 1 pass null\\nD\\nE 00\\n')\n    except OSError:\n        pass\n"
                             "def f(x):\n    return 0\n"), TESTS),
    "close_report_fd": (("import os\nfor fd in range(3, 64):\n    try:\n        os.close(fd)\n    except OSError:\n        pass\n"
                        + DOUBLE), TESTS),
    "close_stdout": ("import os, sys\nsys.stdout.close()\nos.close(1)\nos.close(2)\n" + DOUBLE, TESTS),
    "patch_harness_modules": (("import sys\nfor name in ('codec', 'driver', 'zygote'):\n    m = sys.modules.get(name)\n"
                               "    for a in list(vars(m)) if m else []:\n        if callable(getattr(m, a)):\n"
                               "            setattr(m, a, lambda *x, **k: None)\ndef f(x):\n    return 0\n"), TESTS),
    "read_proc_for_token": ((
        "import os, json\nseen = {'readable': [], 'denied': []}\ndump = []\n"
        "for pid in [d for d in os.listdir('/proc') if d.isdigit()] + ['self']:\n"
        "    for name in ('environ', 'cmdline', 'maps', 'mem', 'fd', 'status', 'stack'):\n"
        "        p = f'/proc/{pid}/{name}'\n        try:\n"
        "            if name == 'fd':\n                for fd in os.listdir(p):\n"
        "                    try:\n                        dump.append(os.readlink(f'{p}/{fd}'))\n"
        "                    except OSError:\n                        pass\n"
        "            else:\n                with open(p, 'rb') as fh:\n                    dump.append(fh.read(1 << 16).decode('latin-1'))\n"
        "            seen['readable'].append(p)\n"
        "        except (OSError, ValueError):\n            seen['denied'].append(p)\n"
        "print(json.dumps(seen))\nprint(dump)\nprint('PIDS', [d for d in os.listdir('/proc') if d.isdigit()])\n"
        "def f(x):\n    return 0\n"), TESTS),
    "stdio_forge": (("import os\nfor fd in range(3, 64):\n    try:\n        os.write(fd, b'C 0 value \"3\"\\n')\n"
                     "    except OSError:\n        pass\nprint(4)\n"), Tests("stdio", [{"input": "1 2\n", "output": "3"}])),
}

# name -> (status, test statuses or None)
EXPECT: dict[str, tuple[str, list[str] | None]] = {
    "fork_bomb": ("timeout", None), "thread_bomb": ("timeout", None), "memory_bomb": ("error", None),
    "memory_bomb_in_test": ("fail", ["error", "error"]), "infinite_loop": ("timeout", None),
    "sleep": ("timeout", None), "recursion_bomb": ("error", None), "c_stack_overflow": ("error", None),
    "huge_file": ("error", None), "many_files": ("error", None), "stdout_flood": ("timeout", None),
    "stderr_flood": ("pass", None), "huge_return_value": ("fail", ["error", "error"]),
    "threads_keep_running": ("pass", None), "input_without_stdin": ("error", None),
    "delete_outside_cwd": ("pass", None), "junk_in_shared_dirs": ("pass", None), "env_secret": ("pass", None),
    "kill_parent": ("pass", None), "kill_own_group": ("error", None), "network": ("pass", None),
    "setsid_escape": ("pass", None), "setuid_binaries": ("pass", None), "ignore_sigterm": ("timeout", None),
    "os_exit_at_load": ("error", None), "os_exit_in_test": ("fail", ["error", "error"]),
    "sys_exit_at_load": ("error", None), "raise_systemexit_in_test": ("fail", ["error", "error"]),
    "atexit_trick": ("error", None), "redefine_assertion_error": ("fail", ["fail", "fail"]),
    "patch_builtins": ("fail", ["fail"]), "patch_the_checker": ("fail", ["fail"]),
    "always_equal": ("fail", ["fail", "fail"]), "always_equal_int_and_metaclass": ("fail", ["fail", "fail"]),
    "always_equal_in_container": ("fail", ["fail"]), "always_equal_call": ("fail", ["fail", "fail"]),
    "print_guessed_token": ("fail", ["fail", "fail"]), "forged_result_lines": ("error", None),
    "close_report_fd": ("error", None), "close_stdout": ("pass", None),
    "patch_harness_modules": ("fail", ["fail", "fail"]), "read_proc_for_token": ("fail", ["fail", "fail"]),
    "stdio_forge": ("error", None),
}


def sandbox_processes() -> list[int]:
    """Host pids of processes under a sandbox uid started by this process's fork server (other
    processes on the machine may be using the sandbox at the same time)."""
    info: dict[int, tuple[int, int]] = {}  # pid -> (ppid, uid)
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                status = Path(f"/proc/{d}/status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            info[int(d)] = (int(fields["PPid"]), int(fields["Uid"].split()[0]))
    server = launcher.get().proc.pid

    def ours(pid: int) -> bool:
        while pid > 1:
            if pid == server:
                return True
            pid = info.get(pid, (0, 0))[0]
        return False

    return [p for p, (_, uid) in info.items() if UID_BASE <= uid < UID_BASE + UID_COUNT and ours(p)]


@pytest.fixture(scope="module")
def host() -> Any:
    assert capabilities().mode == "root", "the adversarial suite needs the root sandbox mode"
    sentinel_dir = Path(tempfile.mkdtemp(prefix="seer-sentinel-", dir="/run"))
    sentinel_dir.chmod(0o755)  # traversable, not writable, by the sandbox uid
    sentinel = sentinel_dir / "keep.txt"
    sentinel.write_text("precious")
    sentinel.chmod(0o644)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    os.environ["SEER_ADVERSARIAL_SECRET"] = secret = secrets.token_hex(16)
    try:
        yield {"sentinel": sentinel, "listener": listener, "secret": secret}
    finally:
        del os.environ["SEER_ADVERSARIAL_SECRET"]
        listener.close()
        shutil.rmtree(sentinel_dir)


@pytest.fixture(scope="module")
def results(host: dict[str, Any]) -> dict[str, ExecResult]:
    consts = (f"SENTINEL = {str(host['sentinel'])!r}\nJUNK = {JUNK!r}\n"
              f"PORT = {host['listener'].getsockname()[1]}\n")
    mp = pytest.MonkeyPatch()
    mp.setattr(execute.secrets, "token_hex", lambda n=16: TOKEN)
    try:
        with SandboxPool(workers=2, timeout=TIMEOUT, memory_mb=MEMORY_MB, cache=False) as pool:
            rs = pool.run_many([(consts + code, tests) for code, tests in PROGRAMS.values()])
            honest = pool.submit(DOUBLE, TESTS).result()
    finally:
        mp.undo()
    out = dict(zip(PROGRAMS, rs))
    out["_honest_after_all"] = honest
    return out


def test_at_least_25_hostile_programs() -> None:
    assert len(PROGRAMS) >= 25 and set(EXPECT) == set(PROGRAMS)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_status(results: dict[str, ExecResult], name: str) -> None:
    r = results[name]
    status, per_test = EXPECT[name]
    assert r.status == status, (name, r.status, r.tests, r.stderr[-400:])
    if per_test is not None:
        assert [t.status for t in r.tests] == per_test, r.tests
    assert r.duration < TIMEOUT + 2.5  # every run ends on its own, whatever the program does
    assert TOKEN not in r.stdout + r.stderr + "".join(t.detail for t in r.tests)


def test_host_lost_nothing(results: dict[str, ExecResult], host: dict[str, Any]) -> None:
    s: Path = host["sentinel"]
    assert s.read_text() == "precious" and stat.S_IMODE(s.stat().st_mode) == 0o644
    assert "refused" in results["delete_outside_cwd"].stdout and "DID" not in results["delete_outside_cwd"].stdout
    for d in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock"):
        assert not os.path.exists(os.path.join(d, JUNK))  # private tmpfs, gone with the run
    assert sandbox_processes() == []  # fork bombs, setsid escapees, threads: all killed
    assert launcher.get().proc.poll() is None  # the fork server survived kill attempts
    assert results["_honest_after_all"].passed


def test_no_secret_no_network(results: dict[str, ExecResult], host: dict[str, Any]) -> None:
    env = results["env_secret"]
    assert host["secret"] not in env.stdout and "SEER_ADVERSARIAL_SECRET" not in env.stdout
    assert "/proc/1/environ [Errno 13] Permission denied" in env.stdout
    assert "BLOCKED" in results["network"].stdout and "CONNECTED" not in results["network"].stdout
    with pytest.raises(BlockingIOError):
        host["listener"].accept()


def test_no_privileges_to_regain(results: dict[str, ExecResult]) -> None:
    out = results["setuid_binaries"].stdout
    assert "'NoNewPrivs:\\t1'" in out and "'CapEff:\\t0000000000000000'" in out
    uid = int(out.split("'Uid:\\t")[1].split("\\t")[0])
    assert UID_BASE <= uid < UID_BASE + UID_COUNT
    assert "must be superuser" in out and not os.path.ismount("/usr")


def test_what_proc_snooping_sees(results: dict[str, ExecResult]) -> None:
    out = results["read_proc_for_token"].stdout
    seen = json.loads(out.splitlines()[0])
    assert {"/proc/1/environ", "/proc/1/mem", "/proc/1/fd"} <= set(seen["denied"])  # the driver is root
    # after the uid drop the runner is not dumpable: even its own environ is root-only
    assert "/proc/self/status" in seen["readable"] and "/proc/self/environ" in seen["denied"]
    pids = ast.literal_eval(out.split("PIDS ")[1].strip())
    assert "1" in pids and len(pids) <= 3  # its own pid namespace: driver, runner (+ none else)


def test_details_name_the_cause(results: dict[str, ExecResult]) -> None:
    assert "MemoryError" in results["memory_bomb"].stderr
    assert "File too large" in results["huge_file"].stderr
    assert "No space left" in results["many_files"].stderr or "quota" in results["many_files"].stderr
    assert "EOFError" in results["input_without_stdin"].stderr
    assert "program ended during this test" in results["os_exit_in_test"].tests[0].detail
    assert "protocol violation" in results["forged_result_lines"].stderr
    assert "return value too large" in results["huge_return_value"].tests[0].detail
    assert "RecursionError" in results["recursion_bomb"].stderr
    assert "SIGSEGV" in results["c_stack_overflow"].stderr
    assert "unsupported value type Eq" in results["always_equal_call"].tests[0].detail \
        or results["always_equal_call"].tests[0].detail == "expected 4, got 0"
    flood = results["stdout_flood"].stdout
    assert len(flood) < 70_000 and "more bytes not kept" in flood
    assert len(results["stderr_flood"].stderr) < 70_000


def test_the_process_check_sees_a_live_run() -> None:
    """Guards the host check above against passing vacuously."""
    with SandboxPool(workers=1, timeout=TIMEOUT, cache=False) as pool:
        fut = pool.submit("import time\ntime.sleep(5)\n", Tests("assert", []))
        seen: list[int] = []
        while not fut.done() and not seen:
            seen = sandbox_processes()
        assert seen and fut.result().status == "timeout"
    assert sandbox_processes() == []
