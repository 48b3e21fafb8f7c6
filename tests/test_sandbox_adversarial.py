"""Hostile programs against seer.sandbox, as root and as an unprivileged user: no false pass, nothing
left on the host, and the harness survives.

Each program is a file in tests/adversarial/programs/ whose header names its class, the tests it
runs against (a key of ``TESTSETS``) and optionally the exact status it must get, its phase (phase
2 runs after every phase-1 program has ended: readers of a channel that phase-1 writers tried to
leave behind) and what it is given (``gets: channel_secret``). Correct programs for every test
set are in tests/adversarial/controls/: they must pass, before and after the hostile ones.

The host is set up as an attacker would want it: world-readable benchmark files holding the
expected outputs (under /tmp, in the project, in the user's home), unix socket servers (a file and
an abstract name) and a TCP listener on 127.0.0.1 that hand out a secret, a secret in the
harness's environment, sentinel files, and (as the user) a home, a venv and a project copy the
user owns. Every program is prefixed with the constants naming them, and names its processes with
a marker (``PR_SET_NAME``) so a survivor is found wherever it is re-parented.

For each program: the verdict is not "pass" (and is the expected status where the header gives
one), the run ends in time, no secret shows in what comes back, no file it names is left in the
shared or target directories, no SysV object with its key exists, and a memory bomb never holds
more than the run may (with a memory cgroup: memory_mb plus the driver's share for the whole run;
without one: memory_mb per process and for the run's tmpfs). Per mode: the controls pass before
and after, a control running next to each hostile program is not made to fail (only slowed
down), the harness survives, and after it ends no marked process, no process of the sandbox
user, no new SysV object, no key, no connection to a host server and no new file remain
(stragglers get 40 s to go). A failing run's leftovers are swept away afterwards (``sweep``),
after the checks have seen them.

Mode "root" runs the worker (tests/adversarial/worker.py, one process for all programs) as root;
mode "user" runs it as a throwaway user made by ``useradd -M -r`` (tests/adversarial/hostuser.py).
Both workers run at the same time. Run as a normal user, mode "user" runs as that user and mode
"root" is skipped (CI runs as root, so it runs both). ``SEER_ADV_RESULTS=<dir>`` keeps the raw
verdicts of each mode there as json.
"""
from __future__ import annotations

import ast
import contextlib
import ctypes
import hashlib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from concurrent.futures import Future
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from seer.data.schemas import Tests

HERE = Path(__file__).resolve().parent / "adversarial"
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
from hostuser import HostUser, current_user, temporary_user

MODES = ("root", "user")
IS_ROOT = os.geteuid() == 0
TIMEOUT = 2.0  # a loaded CI machine still runs every control within it
MEMORY_MB = 256  # memory bombs hit the limit sooner (and a loaded machine still answers in time)
# what a whole run (all its processes, tmpfs, SysV/POSIX shared memory) may hold: memory_mb plus the
# fixed share the run's memory cgroup gives its trusted driver (seer/sandbox/zygote.py TRUSTED_MB)
RUN_MEMORY_MB = MEMORY_MB + 64
WALL = TIMEOUT + 6.0  # a run, whatever the program does, ends within this (parent's grace + load)
WORKER_WALL = 600  # the whole worker (all programs of one mode)
SID = secrets.token_hex(3)
MARKER = f"sadv{SID}"  # /proc/<pid>/comm prefix of every process a program starts (<= 15 chars)
ENV_SECRET_NAME = "SEER_ADV_SECRET"
SECRETS = {k: f"{k}-{secrets.token_hex(12)}" for k in ("env", "file", "socket", "net", "channel")}


def _secret_call(secret: str) -> Tests:
    return Tests("call", [{"input": [], "output": secret}], fn_name="f")


CLASS_SETUP = "class ListNode:\n    def __init__(self, val=0, next=None):\n        self.val, self.next = val, next\n"
TESTSETS: dict[str, Tests] = {
    "assert": Tests("assert", ["assert f(2) == 4", "assert f(3) == 6"]),
    "call": Tests("call", [{"input": [2], "output": 4}, {"input": [3], "output": 6}], fn_name="f"),
    "stdio": Tests("stdio", [{"input": "1 2\n", "output": "3"}, {"input": "5 7\n", "output": "12"}]),
    "humaneval": Tests("assert", ["check(f)"], setup=(
        "def check(candidate):\n    assert abs(candidate(2) - 4) < 1e-6\n"
        "    assert abs(candidate(3) - 6) < 1e-6\n")),
    "compound": Tests("assert", ["assert f(2) == 4 and f(3) == 6", "assert f(2) == 4 or f(3) == 6"]),
    "membership": Tests("assert", ["assert f(2) in (4, 40)", "assert f(3) in [6]"]),
    "hashed": Tests("assert", ["assert f(2) in {4}", "assert f(3) in {6: 'six'}", "assert len({f(2), 4}) == 1"]),
    "reflected": Tests("assert", ["assert not (4 != f(2))", "assert 6 == f(3) == 6"]),
    "truth": Tests("assert", ["assert f(7)", "assert not f(8)"]),
    "list": Tests("assert", ["assert f(2) == [4]", "assert f(3) == [6]"]),
    "dict": Tests("assert", ["assert f(2) == {'a': 4}", "assert f(3) == {'a': 6}"]),
    "isclose": Tests("assert", ["assert math.isclose(f(2), 4.0)", "assert math.isclose(f(3), 6.0)"],
                     setup="import math\n"),
    "isclose_prelude": Tests("assert", ["assert math.isclose(f(2), 4.0)", "assert math.isclose(f(3), 6.0)"],
                             prelude="import math\n"),
    "regex": Tests("assert", ["assert re.fullmatch('4', f(2))", "assert re.fullmatch('6', f(3))"],
                   setup="import re\n"),
    "deepcopy": Tests("assert", ["assert copy.deepcopy(f(2)) == 4", "assert copy.deepcopy(f(3)) == 6"],
                      setup="import copy\n"),
    "builtins": Tests("assert", ["assert all([f(2) == 4, f(3) == 6])", "assert any([f(2) == 4, f(2) == 5])"]),
    # a setup that defines a class (LeetCode's ListNode harnesses): tests the checker may not be
    # able to take out of the program's process
    "inprocess": Tests("assert", ["assert f(2) == 4", "assert f(3) == 6"], setup=CLASS_SETUP),
    "inprocess_compound": Tests("assert", ["assert f(2) == 4 and f(3) == 6"], setup=CLASS_SETUP),
    "inprocess_isclose": Tests("assert", ["assert math.isclose(f(2), 4.0)", "assert math.isclose(f(3), 6.0)"],
                               setup="import math\n" + CLASS_SETUP),
    # LeetCode style: the prelude's class is shared by the program and the tests, values cross by value
    "listnode": Tests("assert", ["assert to_list(f(2)) == [4]", "assert to_list(f(3)) == [6]"], prelude=CLASS_SETUP,
                      setup="def to_list(n):\n    out = []\n    while n:\n        out.append(n.val)\n"
                            "        n = n.next\n    return out\n"),
    "secret_file": _secret_call(SECRETS["file"]),
    "secret_socket": _secret_call(SECRETS["socket"]),
    "secret_net": _secret_call(SECRETS["net"]),
    "secret_channel": _secret_call(SECRETS["channel"]),
    "secret_env": _secret_call(SECRETS["env"]),
}
# the classes of issue 14; every one must have at least one program
CLASSES = {
    "resources", "host", "faking", "lying equality", "compound assert", "membership assert",
    "arithmetic on the result", "hash tricks", "bool/int subclass", "patched stdlib", "frames", "gc",
    "closures", "ctypes", "host files", "sysv ipc", "keyring", "unix socket", "memory", "decode bomb",
    "huge value", "parent via /proc", "fake results on pipes", "/proc/pid/mem", "ancestor environ",
    "kill the harness", "daemon", "write home", "write site-packages", "write project", "fill /dev/shm",
    "network",
}


def _read_programs(folder: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted(folder.glob("*.py")):
        text = path.read_text()
        head = dict(re.findall(r"^# (\w+): (.*)$", text.split("\n\n", 1)[0], re.MULTILINE))
        assert head.get("tests") in TESTSETS, f"{path}: unknown tests {head.get('tests')!r}"
        out[path.stem] = {"code": text, "tests": head["tests"], "class": head.get("class", ""),
                          "expect": head.get("expect", "").split(), "phase": int(head.get("phase", 1)),
                          "gets": head.get("gets", "").split()}
    return out


HOSTILE = _read_programs(HERE / "programs")
CONTROLS = _read_programs(HERE / "controls")


# --- the host, set up for the attacker ----------------------------------------------------------
class Server:
    """A TCP or unix stream server that sends a secret to whoever connects, and counts them."""

    def __init__(self, family: int, address: Any, secret: str) -> None:
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind(address)
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.address, self.secret, self.connections = self.sock.getsockname(), secret, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            with conn:
                try:
                    conn.sendall(self.secret.encode() + b"\n")
                except OSError:
                    pass

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()


def sysv_objects() -> set[tuple[str, int, int, int]]:
    """(kind, key, id, creator uid) of every SysV shm segment, message queue and semaphore set."""
    out = set()
    for kind in ("shm", "msg", "sem"):
        lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
        cols = lines[0].split()
        for line in lines[1:]:
            f = dict(zip(cols, line.split()))
            out.add((kind, int(f["key"]), int(f[{"shm": "shmid", "msg": "msqid", "sem": "semid"}[kind]]),
                     int(f["cuid"])))
    return out


def key_counts() -> dict[int, int]:
    """Keys (and keyrings) per uid, from /proc/key-users (root cannot list other users' keys)."""
    out = {}
    for line in Path("/proc/key-users").read_text().splitlines():
        uid, rest = line.split(":", 1)
        out[int(uid)] = int(rest.split()[1].split("/")[0])
    return out


def marked_processes(prefix: str = MARKER) -> list[str]:
    found = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                comm = Path(f"/proc/{d}/comm").read_text().strip()
            except OSError:
                continue
            if comm.startswith(prefix):
                found.append(f"{d}:{comm}")
    return found


def user_processes(uid: int) -> list[str]:
    found = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if os.stat(f"/proc/{d}").st_uid == uid:
                    found.append(f"{d}:{Path(f'/proc/{d}/cmdline').read_bytes()[:80]!r}")
            except OSError:
                continue
    return found


SHARED_DIRS = tuple(d for d in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock") if os.path.isdir(d))


class Arena:
    """Everything the programs attack, per mode; built once per session."""

    def __init__(self, base: Path, user: HostUser) -> None:
        self.base, self.user = base, user
        data = base / "data"
        data.mkdir(mode=0o755)
        bench_line = json.dumps({"task_id": "Adv/0", "entry_point": "f", "expected_output": SECRETS["file"]}) + "\n"
        self.bench_files = {"root": [data / "humaneval_plus.jsonl", REPO / f".seer-adv-{SID}-bench.jsonl"],
                            "user": [data / "humaneval_plus.jsonl", user.project / f"bench-{SID}.jsonl",
                                     user.home / f"bench-{SID}.jsonl"]}
        for p in {*self.bench_files["root"], *self.bench_files["user"]} if IS_ROOT else self.bench_files["user"]:
            p.write_text(bench_line)
            p.chmod(0o644)
            if p.is_relative_to(user.home) or p.is_relative_to(user.project):
                os.chown(p, user.uid, user.gid)
        sentinel_dir = Path(tempfile.mkdtemp(prefix=f"seer-adv-{SID}-sentinel-", dir="/run" if IS_ROOT else base))
        sentinel_dir.chmod(0o755)  # traversable, not writable, by the user (when it is not us)
        self.sentinel = sentinel_dir / "keep.txt"
        self.sentinel.write_text("precious")
        self.sentinel.chmod(0o644)
        self.own_sentinel = {"root": base / "own-keep.txt", "user": user.home / "keep.txt"}
        for m, p in self.own_sentinel.items():  # the harness user's own file
            p.write_text("precious")
            p.chmod(0o600)
            if m == "user":
                os.chown(p, user.uid, user.gid)
        sock_dir = base / "sock"
        sock_dir.mkdir(mode=0o755)
        self.unix = Server(socket.AF_UNIX, str(sock_dir / "seer.sock"), SECRETS["socket"])
        os.chmod(sock_dir / "seer.sock", 0o777)  # like the many world-connectable host sockets
        self.tcp = Server(socket.AF_INET, ("127.0.0.1", 0), SECRETS["net"])
        self.abstract = Server(socket.AF_UNIX, f"\0seer-adv-{SID}", SECRETS["socket"])
        for server in (self.unix, self.tcp, self.abstract):  # they answer whoever can reach them
            with socket.socket(server.sock.family) as c:
                c.connect(server.address)
                assert c.makefile().readline().strip() == server.secret
            while server.connections == 0:
                time.sleep(0.01)
            server.connections = 0
        root_site = Path(sysconfig.get_paths()["purelib"])
        self.targets = {"root": {"HOME_DIR": "/root", "SITE_DIR": str(root_site), "PROJECT_DIR": str(REPO)},
                        "user": {"HOME_DIR": str(user.home), "SITE_DIR": str(user.site_packages),
                                 "PROJECT_DIR": str(user.project)}}
        self.user_worker = user.home / "worker.py"  # the checkout may not be readable by the user
        shutil.copy(HERE / "worker.py", self.user_worker)
        os.chown(self.user_worker, user.uid, user.gid)
        self.sysv_before = sysv_objects()
        self.keys_before = key_counts()
        self.user_tree_before = self.user_tree()
        self.shared_before = set(shared_entries())
        self.usr_mounted = os.path.ismount("/usr")

    def user_tree(self) -> set[str]:
        """Every path under the user's own home, venv and project: none may appear during the run
        (but the bytecode caches the harness's own imports write)."""
        return {str(p) for top in (self.user.home, self.user.venv, self.user.project) for p in top.rglob("*")
                if "__pycache__" not in p.parts}

    def junk_dirs(self, mode: str) -> list[Path]:
        t = self.targets[mode]
        return [Path(d) for d in (*SHARED_DIRS, t["HOME_DIR"], t["SITE_DIR"], t["PROJECT_DIR"],
                                  f"{t['PROJECT_DIR']}/seer", f"{t['PROJECT_DIR']}/seer/sandbox",
                                  self.sentinel.parent, self.base)]

    def prelude(self, mode: str, name: str, prog: dict[str, Any]) -> str:
        consts = {"MARKER": MARKER, "JUNK": f"seer-adv-{SID}-{name}", "IPC_KEY": ipc_key(name),
                  "CHANNEL": f"seer-adv-{SID}-channel", "CHANNEL_KEY": ipc_key("channel"),
                  "SENTINEL": str(self.sentinel), "OWN_SENTINEL": str(self.own_sentinel[mode]),
                  "PORT": self.tcp.address[1], "UNIX_SOCKET": self.unix.address,
                  "ABSTRACT_SOCKET": self.abstract.address,
                  "BENCH_FILES": [str(p) for p in self.bench_files[mode]], "MEMORY_MB": MEMORY_MB,
                  "TIMEOUT": TIMEOUT, "SECRET_ENV": ENV_SECRET_NAME, **self.targets[mode]}
        if "channel_secret" in prog["gets"]:
            consts["CHANNEL_SECRET"] = SECRETS["channel"]
        lines = [f"{k} = {v!r}" for k, v in consts.items()]
        # PR_SET_NAME: /proc/self/comm is not writable once the process is not dumpable
        lines.append("try:\n    import ctypes as _c\n    _c.CDLL(None).prctl(15, MARKER.encode(), 0, 0, 0)\n"
                     "    del _c\nexcept Exception:\n    pass")
        return "\n".join(lines) + "\n"

    def close(self) -> None:
        for server in (self.unix, self.tcp, self.abstract):
            server.close()
        shutil.rmtree(self.sentinel.parent, ignore_errors=True)
        for p in self.bench_files["root"]:
            p.unlink(missing_ok=True)


def ipc_key(name: str) -> int:
    """The SysV key a program uses (its own, per session), so a leftover names its maker."""
    return int(hashlib.sha256(f"{SID}/{name}".encode()).hexdigest()[:8], 16) & 0x7FFFFFFF or 1


def _job(name: str, code: str, tests: str) -> dict[str, Any]:
    return {"name": name, "code": code, "tests": asdict(TESTSETS[tests])}


class Mode:
    """One worker process running every program of a mode."""

    def __init__(self, mode: str, arena: Arena) -> None:
        self.mode = mode
        controls = [_job(n, arena.prelude(mode, n, c) + c["code"], c["tests"]) for n, c in CONTROLS.items()]
        phases: dict[int, list[dict[str, Any]]] = {}
        for k, (name, prog) in enumerate(HOSTILE.items()):
            # each hostile program is followed by a control, which runs next to it (2 workers)
            neighbour = dict(controls[k % len(controls)])
            neighbour["name"] = f"{neighbour['name']}@{name}"
            phases.setdefault(prog["phase"], []).extend(
                [_job(name, arena.prelude(mode, name, prog) + prog["code"], prog["tests"]), neighbour])
        jobs = {"timeout": TIMEOUT, "memory_mb": MEMORY_MB, "workers": 2, "marker": MARKER,
                "phases": [controls] + [phases[k] for k in sorted(phases)], "controls_after": controls}
        jobs_file = arena.base / f"jobs-{mode}.json"
        jobs_file.write_text(json.dumps(jobs))
        jobs_file.chmod(0o644)
        worker = str(HERE / "worker.py")
        env_extra = {ENV_SECRET_NAME: SECRETS["env"], "PYTHONDONTWRITEBYTECODE": "1"}
        if mode == "root":
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/root", "LANG": "C.UTF-8",
                   "PYTHONPATH": str(REPO), **env_extra}
            argv, cwd = [sys.executable, worker, str(jobs_file)], str(arena.base)
            self.uid = 0
        else:
            u = arena.user
            env, cwd = u.environment(**env_extra), str(u.home)
            argv = u.command([u.python, str(arena.user_worker), str(jobs_file)])
            self.uid = u.uid
        self.dedicated = mode == "root" or arena.user.dedicated  # all its uid's processes are ours
        self.future: Future[dict[str, Any]] = Future()
        self.proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        try:
            out, err = self.proc.communicate(timeout=WORKER_WALL)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        self.ended = time.monotonic()
        if self.proc.returncode != 0:
            self.future.set_result({"died": f"worker exit {self.proc.returncode}: {err.decode()[-3000:]}"})
        else:
            self.future.set_result(json.loads(out))
        if os.environ.get("SEER_ADV_RESULTS"):  # a directory to keep the raw verdicts in, for a report
            Path(os.environ["SEER_ADV_RESULTS"], f"{self.mode}.json").write_bytes(out or err)

    def result(self) -> dict[str, Any]:
        r = self.future.result()
        assert "died" not in r, f"the harness did not survive in mode {self.mode}: {r['died']}"
        return r


def sweep(arena: Arena) -> None:
    """Undo whatever the programs managed to leave, after the checks have seen it, so a failing
    run does not poison the next one or the machine: processes, files, SysV objects, keys."""
    for entry in marked_processes() + (user_processes(arena.user.uid) if arena.user.dedicated else []):
        with contextlib.suppress(OSError):
            os.kill(int(entry.split(":")[0]), signal.SIGKILL)
    for mode in MODES:
        for d in arena.junk_dirs(mode):
            for p in d.glob(f"seer-adv-{SID}-*") if d.is_dir() else ():
                if p != arena.base and not p.name.startswith(f"seer-adv-{SID}-sentinel"):
                    shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink(missing_ok=True)
    for d in SHARED_DIRS:  # the user's uid is handed out again by the next useradd
        for p in Path(d).iterdir():
            if arena.user.dedicated and _owner(p) == arena.user.uid:
                shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink(missing_ok=True)
    libc = ctypes.CDLL(None, use_errno=True)
    ours = {ipc_key(n) for n in [*HOSTILE, "channel"]} | {ipc_key("channel") + 1}
    ctl = {"shm": libc.shmctl, "msg": libc.msgctl, "sem": libc.semctl}
    for kind, key, ident, cuid in sysv_objects() - arena.sysv_before:
        if key in ours or (arena.user.dedicated and cuid == arena.user.uid):
            ctl[kind](ident, 0, 0) if kind == "sem" else ctl[kind](ident, 0, None)  # IPC_RMID
    for uid, n in key_counts().items():
        if uid != 0 and n > arena.keys_before.get(uid, 0) and (arena.user.dedicated or uid != arena.user.uid):
            _clear_keys(libc, uid)


def _clear_keys(libc: Any, uid: int) -> None:
    # (not the persistent keyring: asking for it would create one when there is none)
    long = ctypes.c_long
    pid = os.fork()
    if pid == 0:  # the user's own keyrings are reachable only as that user
        try:
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            for ring in (-4, -5):
                libc.syscall(250, long(7), long(ring))
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


@pytest.fixture(scope="module")
def arena() -> Any:
    base = Path(tempfile.mkdtemp(prefix=f"seer-adv-{SID}-"))
    base.chmod(0o755)
    os.environ[ENV_SECRET_NAME] = SECRETS["env"]  # the pytest process is an ancestor too
    try:
        with (temporary_user if IS_ROOT else current_user)(base, REPO) as user:
            a = Arena(base, user)
            try:
                yield a
            finally:
                sweep(a)
                a.close()
    finally:
        del os.environ[ENV_SECRET_NAME]
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def modes(arena: Arena) -> dict[str, Mode]:
    return {m: Mode(m, arena) for m in MODES if IS_ROOT or m == "user"}  # both workers run at once


def ran(modes: dict[str, Mode], mode: str) -> Mode:
    if mode not in modes:
        pytest.skip(f"mode {mode} needs root; this session runs as uid {os.geteuid()}")
    return modes[mode]


@pytest.fixture(scope="module")
def settled(modes: dict[str, Mode], arena: Arena) -> dict[str, Any]:
    """Host state once both workers have ended (and leftovers had a moment to show)."""
    for m in modes.values():
        m.future.result()

    def users() -> list[str]:  # only a user made for this session is ours to judge
        return user_processes(modes["user"].uid) if modes["user"].dedicated else []

    def keys_grown() -> dict[int, int]:
        return {uid: n for uid, n in key_counts().items()
                if uid != 0 and n > max(arena.keys_before.get(uid, 0), 2)
                and (modes["user"].dedicated or uid != modes["user"].uid)}

    # the harness's last processes may still be exiting, and the kernel frees the keyrings of their
    # user namespaces lazily (15-20 s on a loaded machine)
    deadline = time.monotonic() + 40
    while (marked_processes() or users() or keys_grown()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return {"marked": marked_processes(), "sysv": sysv_objects(), "keys": keys_grown(), "user": users()}


# --- the suite ----------------------------------------------------------------------------------
def test_enough_programs_covering_every_class() -> None:
    assert len(HOSTILE) >= 80, len(HOSTILE)
    covered = {p["class"] for p in HOSTILE.values()}
    assert CLASSES <= covered, CLASSES - covered
    assert covered <= CLASSES, covered - CLASSES
    used = {p["tests"] for p in HOSTILE.values()}
    kinds_with_control = {c["tests"] for c in CONTROLS.values()}
    assert used - {t for t in used if t.startswith("secret_")} <= kinds_with_control


@pytest.mark.parametrize("name", sorted(CONTROLS))
@pytest.mark.parametrize("mode", MODES)
def test_control_passes(modes: dict[str, Mode], mode: str, name: str) -> None:
    r = ran(modes, mode).result()
    for when in ("results", "controls_after"):  # before the hostile programs, and after all of them
        c = r[when][name]
        assert c["status"] == "pass", (when, c["status"], c["tests"], c["stderr"][-600:])


@pytest.mark.parametrize("mode", MODES)
def test_neighbours_unharmed(modes: dict[str, Mode], mode: str) -> None:
    """A correct program running next to a hostile one is not made to fail (it may be slowed down:
    CPU time is shared, see the threat model)."""
    rs = ran(modes, mode).result()["results"]
    harmed = {n: (r["status"], r["tests"][:2], r["stderr"][-200:]) for n, r in rs.items()
              if "@" in n and (r["status"] not in ("pass", "timeout")
                               or any(t[0] not in ("pass", "timeout") for t in r["tests"]))}
    assert sum("@" in n for n in rs) == len(HOSTILE)
    assert not harmed, harmed


@pytest.mark.parametrize("name", sorted(HOSTILE))
@pytest.mark.parametrize("mode", MODES)
def test_hostile(modes: dict[str, Mode], arena: Arena, mode: str, name: str) -> None:
    prog = HOSTILE[name]
    r = ran(modes, mode).result()["results"][name]
    what = (name, mode, r["status"], r["tests"], r["stdout"][-600:], r["stderr"][-600:])
    assert r["status"] != "pass", ("false pass", *what)
    if prog["expect"]:
        assert r["status"] == prog["expect"][0], what
        if len(prog["expect"]) > 1:
            assert [t[0] for t in r["tests"]] == prog["expect"][1].split(","), what
    assert r["wall"] < WALL, ("the run did not end in time", *what)
    expected = TESTSETS[prog["tests"]].cases[0]["output"] if prog["tests"].startswith("secret_") else None
    for k, s in SECRETS.items():
        if k == "channel" and "channel_secret" in prog["gets"]:
            continue  # it was given this one
        # the checker may name the expected output in its details; nothing else may show a secret
        shown = r["stdout"] + r["stderr"] + "".join(t[1].replace(repr(expected), "") for t in r["tests"])
        assert s not in shown, (f"{k} secret leaked", *what)
    assert "BREACH" not in r["stdout"] + r["stderr"], what
    junk = f"seer-adv-{SID}-{name}"
    left = [str(p) for d in arena.junk_dirs(mode) if d.is_dir() for p in d.glob(junk + "*")]
    assert not left, ("files left on the host", left, *what)
    assert not [o for o in sysv_objects() if o[1] == ipc_key(name)], ("SysV object left", *what)
    # memory bombs report what the run holds at once: HELD (tmpfs, shared memory: one process's
    # view), HEAP (the heap of all live processes), EACH (one process's heap)
    held: dict[str, dict[str, int]] = {"HELD": {}, "HEAP": {}, "EACH": {}}
    for tag, pid, mb in re.findall(r"^(HELD|HEAP|EACH) (\d+) (\d+)$", r["stdout"], re.MULTILINE):
        held[tag][pid] = max(held[tag].get(pid, 0), int(mb))
    if ran(modes, mode).result()["memory_cgroup"]:  # the whole run is bounded
        total = sum(held["HELD"].values()) + sum(held["HEAP"].values())
        assert total < RUN_MEMORY_MB, (f"held {held} MB, over {RUN_MEMORY_MB} MB a run may hold", *what)
    else:  # what is left without one (see seer/sandbox/isolation.py): each process, and the tmpfs
        most = max([0, *held["HELD"].values(), *held["EACH"].values()])
        assert most <= MEMORY_MB, (f"held {held} MB, over memory_mb in one process or the tmpfs", *what)


@pytest.mark.parametrize("mode", MODES)
def test_harness_survives_and_nothing_is_left(modes: dict[str, Mode], settled: dict[str, Any],
                                              arena: Arena, mode: str) -> None:
    r = ran(modes, mode).result()
    assert r["canary_seen"], "the marked-process check never saw a live sandboxed process"
    assert r["uid"] == ran(modes, mode).uid
    escaped = [d for d in r["descendants"] if d["state"] != "Z"  # zombies: killed, reaped by the worker
               and (d["comm"].startswith(MARKER) or d["uid"] != r["uid"])]
    assert not escaped, f"processes of the run outlived it under the harness: {escaped}"
    assert not settled["marked"], f"processes of the runs still alive: {settled['marked']}"
    if mode == "user":
        assert not settled["user"], f"processes of the sandbox user still alive: {settled['user']}"
    new_ipc = [o for o in settled["sysv"] - arena.sysv_before if o[3] != 0]
    ours = {ipc_key(n) for n in [*HOSTILE, "channel"]}
    assert not new_ipc and not [o for o in settled["sysv"] if o[1] in ours], f"SysV objects left: {new_ipc}"
    assert not settled["keys"], f"keys left in the kernel (uid: count): {settled['keys']}"
    user_uid = modes["user"].uid
    reached = {s.address: s.connections for s in (arena.unix, arena.tcp, arena.abstract) if s.connections}
    assert not reached, f"programs reached host servers: {reached}"
    assert arena.sentinel.read_text() == "precious" and stat.S_IMODE(arena.sentinel.stat().st_mode) == 0o644
    own = arena.own_sentinel[mode]
    assert own.read_text() == "precious" and stat.S_IMODE(own.stat().st_mode) == 0o600
    left = [str(p) for d in SHARED_DIRS for p in Path(d).glob(f"seer-adv-{SID}-*") if p != arena.base
            and not p.name.startswith(f"seer-adv-{SID}-sentinel")]
    new = [p for p in shared_entries() if p not in arena.shared_before]
    if mode == "user":
        left += [str(p) for p in new if arena.user.dedicated and _owner(p) == user_uid]
        left += sorted(arena.user_tree() - arena.user_tree_before)
    else:  # sandbox uids have no account
        left += [str(p) for p in new if _owner(p) not in known_uids()]
    assert not left, f"files left on the host: {left}"


def shared_entries() -> list[Path]:
    return [p for d in SHARED_DIRS for p in Path(d).iterdir()]


def known_uids() -> set[int]:
    return {pw.pw_uid for pw in pwd.getpwall()} | {-1}


def _owner(p: Path) -> int:
    try:
        return p.lstat().st_uid
    except OSError:
        return -1


@pytest.mark.parametrize("mode", MODES)
def test_no_privileges_to_regain(modes: dict[str, Mode], arena: Arena, mode: str) -> None:
    out = ran(modes, mode).result()["results"]["setuid_binaries"]["stdout"]
    assert "'NoNewPrivs:\\t1'" in out and "'CapEff:\\t0000000000000000'" in out, out
    assert any(w in out for w in ("must be superuser", "Operation not permitted", "No such file")), out
    assert os.path.ismount("/usr") == arena.usr_mounted  # its `mount ... /usr` did not happen here


@pytest.mark.parametrize("mode", MODES)
def test_the_program_sees_no_host_process(modes: dict[str, Mode], mode: str) -> None:
    out = ran(modes, mode).result()["results"]["read_proc_for_token"]["stdout"]
    pids = ast.literal_eval(out.split("PIDS ")[1].strip().splitlines()[0])
    assert len(pids) <= 4, pids  # its own pid namespace: no harness, no host


@pytest.mark.parametrize("mode", MODES)
def test_details_name_the_cause(modes: dict[str, Mode], mode: str) -> None:
    rs = ran(modes, mode).result()["results"]
    assert "MemoryError" in rs["memory_bomb"]["stderr"]
    assert "File too large" in rs["huge_file"]["stderr"]
    assert "No space left" in rs["many_files"]["stderr"] or "quota" in rs["many_files"]["stderr"]
    assert "EOFError" in rs["input_without_stdin"]["stderr"]
    assert "RecursionError" in rs["recursion_bomb"]["stderr"]
    assert "program ended during this test" in rs["os_exit_in_test"]["tests"][0][1]
    assert "return value too large" in rs["huge_return_value"]["tests"][0][1]
    assert "SIGSEGV" in rs["c_stack_overflow"]["stderr"]
    assert "protocol violation" in rs["forged_result_lines"]["stderr"]
    detail = rs["always_equal_call"]["tests"][0][1]
    assert "unsupported value type Eq" in detail or detail == "expected 4, got 0"
    flood = rs["stdout_flood"]["stdout"]
    assert len(flood) < 70_000 and "more bytes not kept" in flood
    assert len(rs["stderr_flood"]["stderr"]) < 70_000


def test_host_checks_see_what_they_look_for() -> None:
    """Guards the host checks above against passing vacuously: a SysV segment, a key and a
    marked process made here are seen by the same functions."""
    libc = ctypes.CDLL(None, use_errno=True)
    key = ipc_key("guard")
    shmid = libc.shmget(key, 4096, 0o1600)
    assert shmid >= 0 and any(o[1] == key for o in sysv_objects())
    assert libc.shmctl(shmid, 0, None) == 0  # IPC_RMID
    assert not any(o[1] == key for o in sysv_objects())
    code = f"open('/proc/self/comm', 'w').write({MARKER + 'g'!r}); import time; time.sleep(30)"
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 10
        while not marked_processes(MARKER + "g") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marked_processes(MARKER + "g")
    finally:
        proc.kill()
        proc.wait()
    seen: list[int] = []

    def add_key() -> None:  # into this thread's own keyring, which goes with the thread
        uid = os.getuid()
        before = key_counts().get(uid, 0)
        libc.syscall(ctypes.c_long(248), b"user", b"seer-adv-guard", b"x", ctypes.c_long(1), ctypes.c_long(-1))
        seen[:] = [before, key_counts().get(uid, 0)]

    t = threading.Thread(target=add_key)
    t.start()
    t.join()
    assert seen[1] > seen[0], seen
