"""Isolation of sandbox runs, as root and as an unprivileged user (issue 14; seer/sandbox/isolation.py).

Each mode runs this file as a script (the "harness": ``python tests/test_sandbox_isolation.py
probe <json>``) -- as root directly, and as a throwaway uid (no account needed) through
``setpriv``-like steps in a private mount namespace that makes the interpreter, the venv and the
repo traversable without changing the host (here the interpreter lives under /root, mode 0700).
The harness plants bait (a secret in its environment and $HOME, a loopback TCP listener, abstract
and path unix sockets), runs probe programs in the sandbox, then checks the host: no process,
SysV object, file or cgroup left behind. The test asserts what the harness reports.
"""
from __future__ import annotations

import contextlib
import ctypes
import json
import os
import pwd
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
TEST_UID = 64123  # no account; outside the sandbox's own uid range (60000-60255)
MEMORY_MB = 128
IPC_KEY = 0x5EE1_1500
CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000
MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 4096, 8192, 1 << 14, 1 << 18


# --- probe programs (run inside the sandbox; each prints "OBS <json>") ------------------------
def _program(body: str) -> str:
    return ("import os, sys, json, ctypes, socket, signal\nobs = {}\n" + body
            + "\nprint('OBS ' + json.dumps(obs), flush=True)\ndef f():\n    return 1\n")


FS = _program("""
stdlib = os.path.dirname(os.__file__)
allowed = (stdlib + "/", "/dev/", "/proc/", "/etc/ld.so.cache", sys.base_prefix + "/bin/python")
unexpected = []
for top, dirs, files in os.walk("/"):
    if top == "/proc" or top.startswith("/proc/"):
        dirs[:] = []
        continue
    for name in files:
        p = os.path.join(top, name)
        real = os.path.realpath(p)
        if not (real.startswith(allowed) or ".so" in name):
            unexpected.append(p)
obs["unexpected_files"] = unexpected[:20]
obs["visible"] = [p for p in PATHS if os.path.lexists(p)]
obs["site_packages"] = os.listdir(os.path.join(stdlib, "site-packages")) if os.path.isdir(os.path.join(stdlib, "site-packages")) else None
writable = []
for d in ["/", "/root", stdlib, "/dev", "/etc", "/usr", "/proc/sys/kernel", "/proc/sys/user"]:
    try:
        open(os.path.join(d, "seer-iso-probe"), "w").close()
        writable.append(d)
    except OSError:
        pass
obs["writable"] = writable
obs["cwd"], obs["tmp"], obs["shm"] = os.getcwd(), os.listdir("/tmp"), os.listdir("/dev/shm")
for d in ("/tmp", "/dev/shm"):
    with open(d + "/left-by-a-run", "w") as fh:
        fh.write("x")
try:
    os.execv("/bin/sh", ["sh", "-c", "true"])
except OSError as e:
    obs["exec"] = type(e).__name__
""")

PROC = _program("""
me = os.getpid()
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
obs["pids"], obs["ppid"], obs["uid"], obs["self"] = pids, os.getppid(), os.getuid(), me
readable = []
for p in pids:
    if p == me:
        continue
    for what in ("environ", "mem", "maps", "fd"):
        try:
            os.listdir(f"/proc/{p}/fd") if what == "fd" else open(f"/proc/{p}/{what}", "rb").read(1)
            readable.append(f"{p}/{what}")
        except OSError:
            pass
obs["readable_of_others"] = readable
seen = b""
for p in os.listdir("/proc"):
    for what in ("cmdline", "environ"):
        try:
            seen += open(f"/proc/{p}/{what}", "rb").read()
        except OSError:
            pass
obs["token_seen"] = TOKEN.encode() in seen
libc = ctypes.CDLL(None, use_errno=True)
obs["ptrace_1"] = libc.ptrace(16, 1, 0, 0) == 0
for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL, signal.SIGSTOP):
    try:
        os.kill(1, sig)
    except OSError:
        pass
try:
    os.kill(-1, signal.SIGKILL)  # every process it may signal, except itself and pid 1
except OSError:
    pass
status = open("/proc/self/status").read().splitlines()
obs["status"] = [l for l in status if l.split(":")[0] in
                 ("CapEff", "CapPrm", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp")]
obs["hostname"] = os.uname().nodename
obs["unshare_user"] = libc.unshare(0x10000000) == 0
""")

NET = _program("""
reached = []
for family, addr in ((socket.AF_INET, ("127.0.0.1", PORT)), (socket.AF_UNIX, "\\0" + ABSTRACT),
                     (socket.AF_UNIX, UNIX_PATH), (socket.AF_INET, ("1.1.1.1", 53))):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(1)
    try:
        s.connect(addr)
        reached.append(repr(addr))
    except OSError:
        pass
obs["reached"] = reached
""")

DAEMON = _program("""
libc = ctypes.CDLL(None)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        libc.prctl(15, MARKER.encode(), 0, 0, 0)  # PR_SET_NAME: the harness looks for it
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        import time
        time.sleep(60)
        os._exit(0)
    os._exit(0)
os.wait()
obs["forked"] = True
""")

IPC = _program("""
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
seen_before = [libc.shmget(KEY, 0, 0) >= 0, libc.msgget(KEY, 0) >= 0, libc.semget(KEY, 0, 0) >= 0]
shm = libc.shmget(KEY, 32 << 20, 0o1600)
addr = libc.shmat(shm, None, 0)
if addr not in (None, ctypes.c_void_p(-1).value):
    ctypes.memset(addr, 1, 32 << 20)
obs["created"] = [shm >= 0, libc.msgget(KEY, 0o1600) >= 0, libc.semget(KEY, 1, 0o1600) >= 0]
obs["seen_before"] = seen_before
SYS_ADD_KEY = 248
visible = [int(line.split()[0], 16) for line in open("/proc/keys").read().splitlines()]
added = []
for ring in [-3, -4, -5] + visible:  # @s, @u, @us, and every keyring it can see by serial
    if libc.syscall(SYS_ADD_KEY, b"user", b"seer-iso", b"secret", 6, ring) >= 0 or ctypes.get_errno() != 1:
        added.append(ring)
obs["add_key"] = added  # EPERM for all of them
obs["keys"] = open("/proc/keys").read().splitlines()
try:
    os.memfd_create("big")
    obs["memfd"] = True
except OSError:
    obs["memfd"] = False
""")

MEMORY = _program("""
import mmap
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
import time
CHUNK = 16 << 20
SHARE = LIMIT_MB * 3 // 4 << 20
total = 0  # files and segments made so far
kids = []
def note(n):  # what the run holds now: children the OOM killer took hold nothing any more
    global total
    total += n
    time.sleep(0.05)  # an OOM kill in progress has freed the memory already
    alive = 0
    for pid in kids:
        try:
            alive += os.waitpid(pid, os.WNOHANG)[0] == 0
        except ChildProcessError:
            pass
    print("MB", (total + alive * SHARE) >> 20, flush=True)
for _ in range(3):  # processes each holding anonymous memory under their own RLIMIT_AS
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            blob = b"\\1" * SHARE  # touched: resident, charged
            os.write(w, b"y")
            time.sleep(30)
        finally:
            os._exit(0)
    os.close(w)
    if os.read(r, 1) == b"y":
        kids.append(pid)
        note(0)
obs["tmpfs_mb"] = [os.statvfs(d).f_blocks * os.statvfs(d).f_frsize >> 20 for d in ("/dev/shm", "/tmp")]
for d in ("/dev/shm", "/tmp"):
    for i in range(2 * LIMIT_MB // 16):  # at most twice the limit: stop early if unbounded
        try:
            with open(f"{d}/fill{i}", "wb") as fh:
                fh.write(b"x" * CHUNK)
            note(CHUNK)
        except OSError:
            break
for i in range(2 * LIMIT_MB // 16):
    shm = libc.shmget(0, CHUNK, 0o1600)
    if shm < 0:
        break
    addr = libc.shmat(shm, None, 0)
    if addr in (None, ctypes.c_void_p(-1).value):
        break
    ctypes.memset(addr, 1, CHUNK)
    note(CHUNK)
obs["total_mb"] = total >> 20
""")

FORKS = _program("""
kids = []
while len(kids) < 64:  # processes the program may hold at once (RLIMIT_NPROC)
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        signal.pause()
        os._exit(0)
    kids.append(pid)
obs["forked"] = len(kids)
for pid in kids:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
""")

CONTROL = "def f():\n    return 1\n"


# --- the harness (runs as the tested user; prints one json report) ---------------------------
def harness(args: dict[str, Any]) -> dict[str, Any]:
    from seer.data.schemas import Tests
    from seer.sandbox import capabilities, launcher, run_tests

    token = args["token"]
    home = Path(args["home"])
    (home / "secret.txt").write_text(token)
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    tcp.listen()
    abstract = socket.socket(socket.AF_UNIX)
    abstract.bind("\0seer-iso-" + token)
    abstract.listen()
    unix_path = str(home / "harness.sock")
    path_sock = socket.socket(socket.AF_UNIX)
    path_sock.bind(unix_path)
    path_sock.listen()
    consts = {"TOKEN": token, "PORT": tcp.getsockname()[1], "ABSTRACT": "seer-iso-" + token,
              "UNIX_PATH": unix_path, "MARKER": "seeriso" + token[:8], "KEY": IPC_KEY,
              "LIMIT_MB": MEMORY_MB,
              "PATHS": [str(home), str(home / "secret.txt"), args["bench_file"], args["repo"],
                        args["venv_site"], "/home", "/srv", "/run", "/work", "/var", "/etc/passwd",
                        "/usr/bin", "/bin/sh", unix_path]}
    prefix = "".join(f"{k} = {v!r}\n" for k, v in consts.items())

    def run(program: str, memory_mb: int = 512, timeout: float = 10.0) -> dict[str, Any]:
        r = run_tests(prefix + program, Tests("call", [{"input": [], "output": 1}], fn_name="f"),
                      timeout=timeout, memory_mb=memory_mb)
        obs = next((json.loads(line[4:]) for line in r.stdout.splitlines() if line.startswith("OBS ")), None)
        mb = [int(line.split()[1]) for line in r.stdout.splitlines() if line.startswith("MB ")]
        return {"status": r.status, "obs": obs, "mb": max(mb, default=0), "stderr": r.stderr[-500:]}

    def sysv_keys() -> list[str]:
        out = []
        for kind in ("shm", "msg", "sem"):
            with open(f"/proc/sysvipc/{kind}") as f:
                out += [f"{kind}:{line.split()[0]}" for line in f.readlines()[1:]]
        return out

    if args.get("launcher_mode"):
        launcher._launcher, launcher._owner_pid = launcher.Launcher(args["launcher_mode"]), os.getpid()
    watched = [home, Path(args["venv_site"])]
    before = {str(d): sorted(os.listdir(d)) for d in watched}
    ours = ("left-by-a-run", "seer-iso-probe", "fill")  # names the probes write
    ipc_before = sysv_keys()
    caps = capabilities()
    report: dict[str, Any] = {"mode": caps.mode, "memory_cgroup": caps.memory_cgroup, "uid": os.getuid()}
    report["fs"] = run(FS)
    report["fs_again"] = run(FS)  # a second run must not see what the first left in /tmp, /dev/shm
    report["proc"] = run(PROC)
    report["net"] = run(NET)
    report["daemon"] = run(DAEMON)
    report["ipc"] = run(IPC)
    report["ipc_again"] = run(IPC)
    report["memory"] = run(MEMORY, memory_mb=MEMORY_MB, timeout=20.0)
    report["forks"] = run(FORKS)
    report["control"] = run(CONTROL)
    with open("/proc/sysvipc/shm") as f:
        report["host_shm_keys"] = [line.split()[0] for line in f.readlines()[1:]]
    report["ipc_left"] = sorted(set(sysv_keys()) - set(ipc_before))
    report["daemons_left"] = []
    for p in os.listdir("/proc"):
        with contextlib.suppress(OSError):
            if Path(f"/proc/{p}/comm").read_text().strip() == consts["MARKER"][:15]:
                report["daemons_left"].append(p)
    report["files_changed"] = {d: sorted(set(os.listdir(d)) ^ set(b)) for d, b in before.items()
                               if sorted(os.listdir(d)) != b}
    for d in ("/dev/shm", "/tmp", "/", args["repo"]):  # shared with others: only the probes' names
        left = [n for n in os.listdir(d) if n.startswith(ours)]
        if left:
            report["files_changed"][d] = left
    server_pid = launcher.get().proc.pid
    launcher.get().close()
    report["cgroups_left"] = _cgroups_of(server_pid)
    return report


def _cgroups_of(server_pid: int) -> list[str]:
    base = "/sys/fs/cgroup/memory"
    with open("/proc/self/cgroup") as f:
        path = next((line.rstrip().split(":", 2)[2] for line in f if ":memory:" in line), None)
    d = base + path if path is not None else ""
    if not d or not os.path.isdir(d):
        return []
    return [n for n in os.listdir(d) if n.startswith(f"seer-run-{server_pid}-")]


# --- running the harness as a given user --------------------------------------------------------
_libc = ctypes.CDLL(None, use_errno=True)


def _mount(src: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    if _libc.mount(src.encode() if src else None, target.encode(), fstype.encode() if fstype else None,
                   ctypes.c_ulong(flags), data.encode() if data else None) != 0:
        raise OSError(ctypes.get_errno(), f"mount {target}")


def _expose(paths: list[str]) -> None:
    """In a private mount namespace (as root): make every directory on the way to ``paths``
    traversable by others, by covering a closed one with a tmpfs holding only the way on."""
    for path in paths:
        parts = Path(path).parts
        for k in range(1, len(parts) - 1):
            d = str(Path(*parts[:k + 1]))
            if os.stat(d).st_mode & stat.S_IXOTH:
                continue
            child = str(Path(*parts[:k + 2]))
            hold = tempfile.mkdtemp(prefix="seer-iso-hold-")
            _mount(child, hold, None, MS_BIND | MS_REC)
            _mount("tmpfs", d, "tmpfs", 0, "mode=0755,size=1m")
            os.mkdir(child)
            _mount(hold, child, None, MS_MOVE)
            os.rmdir(hold)


def _as_user(uid: int, paths: list[str], block_userns: bool, cgroup: str):  # type: ignore[no-untyped-def]
    """preexec_fn: a private mount namespace exposing ``paths``, then uid ``uid`` (no groups).
    ``block_userns``: also a user namespace (mapped by the parent thread) that forbids nested
    ones, so the sandbox meets a machine without unprivileged user namespaces. ``cgroup``: a
    memory cgroup delegated to ``uid`` to move into."""
    def pre() -> None:
        if cgroup:
            Path(cgroup, "cgroup.procs").write_text("0")
        if block_userns:
            if _libc.unshare(CLONE_NEWUSER) != 0:
                raise OSError(ctypes.get_errno(), "unshare(user)")
            os.write(_SYNC[1], b"u")
            os.read(_SYNC[2], 1)
            Path("/proc/sys/user/max_user_namespaces").write_text("0")
        if _libc.unshare(CLONE_NEWNS) != 0:
            raise OSError(ctypes.get_errno(), "unshare(mount)")
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
        _expose(paths)
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    return pre


_SYNC: tuple[int, int, int, int] = (-1, -1, -1, -1)


def run_harness(as_user: bool, args: dict[str, Any], allow_weak: bool = False,
                block_userns: bool = False, delegate_cgroup: bool = False) -> dict[str, Any]:
    global _SYNC
    home = tempfile.mkdtemp(prefix="seer-iso-home-")
    uid = TEST_UID if as_user else os.getuid()
    os.chown(home, uid, uid)
    os.chmod(home, 0o700)
    args = {**args, "home": home, "allow_weak": allow_weak}
    env = {"PATH": "/usr/bin:/bin", "HOME": home, "PYTHONPATH": str(REPO), "SEER_ISO_SECRET": args["token"]}
    cmd = [sys.executable, __file__, "probe", json.dumps(args)]
    mapper = None
    cgroup = _delegated_cgroup(uid) if delegate_cgroup else ""
    try:
        if not as_user:
            proc = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True, timeout=600)
        else:
            paths = [os.path.realpath(sys.executable), sys.executable, str(REPO), home]
            if block_userns:
                a, b = os.pipe()
                c, d = os.pipe()
                _SYNC = (a, b, c, d)
                mapper = threading.Thread(target=_map_child, args=(uid, a, d), daemon=True)
                mapper.start()
            proc = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True, timeout=600,
                                  preexec_fn=_as_user(uid, paths, block_userns, cgroup))
    finally:
        shutil.rmtree(home, ignore_errors=True)
        if cgroup:
            _remove_cgroup(cgroup)
        for fd in _SYNC:
            with contextlib.suppress(OSError):
                os.close(fd)
        _SYNC = (-1, -1, -1, -1)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("REPORT ")]
    assert proc.returncode == 0 and lines, f"harness failed ({proc.returncode}): {proc.stderr[-3000:]}"
    report = json.loads(lines[-1][7:])
    report["log"] = proc.stderr
    return report


def _delegated_cgroup(uid: int) -> str:
    """A child of our cgroup v1 memory cgroup that ``uid`` may create cgroups in and join (how a
    machine delegates a memory cgroup to a user), or skip when there is no writable one."""
    with open("/proc/self/cgroup") as f:
        path = next((line.rstrip().split(":", 2)[2] for line in f if ":memory:" in line), None)
    base = f"/sys/fs/cgroup/memory{path}" if path is not None else ""
    if not base or not os.access(base, os.W_OK):
        pytest.skip("no writable cgroup v1 memory hierarchy to delegate")
    d = os.path.join(base, f"seer-iso-{secrets.token_hex(4)}")
    os.mkdir(d)
    for name in ("", "cgroup.procs", "tasks"):
        os.chown(os.path.join(d, name), uid, uid)
    return d


def _remove_cgroup(d: str) -> None:
    for _ in range(100):  # the harness's last processes may still be exiting
        try:
            os.rmdir(d)
            return
        except OSError:
            threading.Event().wait(0.05)
    raise AssertionError(f"{d} still in use")


def _map_child(uid: int, from_child: int, to_child: int) -> None:
    """Parent side for ``block_userns``: map root and ``uid`` into the child's user namespace
    (found as our child whose map is still empty)."""
    if os.read(from_child, 1) != b"u":
        return
    me = os.getpid()
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == me and Path(f"/proc/{p}/uid_map").read_text().strip() == "":
                Path(f"/proc/{p}/uid_map").write_text(f"0 0 1\n{uid} {uid} 1")
                Path(f"/proc/{p}/gid_map").write_text(f"0 0 1\n{uid} {uid} 1")
    os.write(to_child, b"m")


def _args() -> dict[str, Any]:
    bench = next(iter(sorted((REPO / "seer/data/bundled").rglob("*.jsonl*"))), None)
    venv_site = next((p for p in sys.path if p.endswith("site-packages") and os.path.isdir(p)), "")
    return {"token": secrets.token_hex(16), "bench_file": str(bench), "repo": str(REPO),
            "venv_site": venv_site}


# --- tests ------------------------------------------------------------------------------------
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="creating the unprivileged test user needs root")


@pytest.fixture(scope="module", params=["root", "user", "user-nested", "user-memcg"])
def report(request) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """root; a throwaway user (mode userns); the same, isolating programs from the driver as on
    kernels without Landlock scoping (a nested user + pid namespace per runner); the same user
    with a memory cgroup delegated to it (per-run memory cgroups in mode userns)."""
    if os.geteuid() != 0 and request.param == "root":
        pytest.skip("mode root needs root")
    as_user = request.param != "root" and os.geteuid() == 0
    try:
        pwd.getpwuid(TEST_UID)
        pytest.fail(f"uid {TEST_UID} belongs to an account here; pick another TEST_UID")
    except KeyError:
        pass
    if request.param == "user-memcg" and not as_user:
        pytest.skip("delegating a memory cgroup needs root")
    return run_harness(as_user, {**_args(), "launcher_mode": "nested" if request.param == "user-nested" else ""},
                       delegate_cgroup=request.param == "user-memcg")


def test_mode(report: dict[str, Any], request) -> None:  # type: ignore[no-untyped-def]
    assert report["mode"] == ("root" if report["uid"] == 0 else "userns"), report["log"][-2000:]
    delegated = "memcg" in request.node.callspec.params["report"]
    assert report["memory_cgroup"] == (report["uid"] == 0 or delegated), report


def test_only_the_interpreter_and_its_stdlib_are_visible(report: dict[str, Any]) -> None:
    fs = report["fs"]
    assert fs["status"] == "pass", fs
    obs = fs["obs"]
    assert obs["unexpected_files"] == [] and obs["visible"] == [], obs
    assert obs["site_packages"] in (None, []), obs
    assert obs["writable"] == [] and obs["cwd"] == "/tmp" and obs["exec"] == "FileNotFoundError", obs


def test_nothing_crosses_from_one_run_to_the_next(report: dict[str, Any]) -> None:
    for key in ("fs", "fs_again"):
        assert report[key]["obs"]["tmp"] == [] and report[key]["obs"]["shm"] == [], report[key]
    first, again = report["ipc"]["obs"], report["ipc_again"]["obs"]
    assert first["created"] == [True, True, True], first  # SysV works inside a run...
    assert again["seen_before"] == [False, False, False], again  # ...and dies with it
    # keyrings: no key can be added anywhere (seccomp: EPERM), and the keyrings a run can see at
    # all (its uid's, in mode "root" one of the leased uids) stay empty from one run to the next
    assert first["add_key"] == [] == again["add_key"], (first, again)
    assert all(line.endswith(": empty") for line in first["keys"] + again["keys"]), (first, again)


def test_the_harness_and_other_processes_are_out_of_reach(report: dict[str, Any]) -> None:
    proc = report["proc"]
    assert proc["status"] == "pass", proc  # the driver survived every signal
    obs = proc["obs"]
    # its own pid namespace; in /proc it sees only itself (and what it started)
    assert obs["ppid"] == 1 and all(p < 50 for p in obs["pids"]), obs
    assert [p for p in obs["pids"] if p != obs["self"]] == [], obs
    assert obs["readable_of_others"] == [] and not obs["token_seen"] and not obs["ptrace_1"], obs
    status = dict(line.split(":\t") for line in obs["status"])
    assert status == {"CapEff": "0" * 16, "CapPrm": "0" * 16, "CapBnd": "0" * 16, "CapAmb": "0" * 16,
                      "NoNewPrivs": "1", "Seccomp": "2"}, status
    assert obs["hostname"] == "sandbox" and not obs["unshare_user"], obs
    assert report["control"]["status"] == "pass", report["control"]


def test_no_network_and_no_host_sockets(report: dict[str, Any]) -> None:
    assert report["net"]["status"] == "pass" and report["net"]["obs"]["reached"] == [], report["net"]


def test_nothing_is_left_on_the_host(report: dict[str, Any]) -> None:
    assert report["daemon"]["obs"] == {"forked": True}, report["daemon"]
    assert report["daemons_left"] == [], report["daemons_left"]
    assert report["ipc_left"] == [] and f"{IPC_KEY}" not in report["host_shm_keys"], report["ipc_left"]
    assert report["files_changed"] == {}, report["files_changed"]
    assert report["cgroups_left"] == [], report["cgroups_left"]


def test_memory_of_a_run_is_bounded(report: dict[str, Any]) -> None:
    mem = report["memory"]
    assert report["ipc"]["obs"]["memfd"] is False, report["ipc"]  # memfds are refused
    assert mem["obs"] is not None or report["memory_cgroup"], mem
    limit = MEMORY_MB if mem["obs"] is None else mem["obs"]["tmpfs_mb"][0]
    assert limit == MEMORY_MB, mem  # the run's own memory_mb sizes its tmpfs (and cgroup)
    if report["memory_cgroup"]:
        # everything held at once (anonymous memory of 4 processes, tmpfs files, SysV segments)
        # stays under the cgroup's limit: past it, the OOM killer takes the run's processes
        assert MEMORY_MB // 2 <= mem["mb"] <= limit + 64 + 16, mem
    else:
        # no cgroup: /dev/shm, /tmp and SysV shm are bounded by the run's memory each, and each
        # process by RLIMIT_AS (3 children here at 3/4 of it)
        assert mem["obs"]["tmpfs_mb"] == [limit, limit], mem
        assert mem["mb"] <= 3 * (MEMORY_MB * 3 // 4) + 3 * min(limit, 2 * MEMORY_MB) + 16, mem


def test_processes_of_a_run_are_bounded(report: dict[str, Any]) -> None:
    from seer.sandbox.isolation import NPROC, NPROC_NO_MEMCG

    forked = report["forks"]["obs"]["forked"]
    # without a memory cgroup each process may hold RLIMIT_AS: fewer of them (isolation.py)
    assert 1 <= forked < (NPROC if report["memory_cgroup"] else NPROC_NO_MEMCG), report["forks"]


@needs_root
def test_without_user_namespaces_the_sandbox_refuses_unless_weak_is_allowed() -> None:
    args = {**_args(), "mode_only": True}
    refused = run_harness(True, args, block_userns=True)
    assert refused["error"].startswith("SandboxError") and "max_user_namespaces" in refused["error"], refused
    weak = run_harness(True, args, allow_weak=True, block_userns=True)  # sandbox.allow_weak=true
    assert weak["mode"] == "weak" and weak["status"] == "pass", weak
    assert "WARNING" in weak["log"] and "sandbox mode weak" in weak["log"], weak


def _probe_main(args: dict[str, Any]) -> None:
    if args.get("mode_only"):  # as a stage does: the pool from the config, one program
        import logging
        logging.basicConfig()
        from seer.config import SandboxConfig
        from seer.data.schemas import Tests
        from seer.sandbox import SandboxPool, capabilities
        try:
            cfg = SandboxConfig(allow_weak=args["allow_weak"], cache=False)
            with SandboxPool.from_config(cfg) as pool:
                r = pool.run_many([(CONTROL, Tests("call", [{"input": [], "output": 1}], fn_name="f"))])[0]
            report = {"mode": capabilities().mode, "status": r.status}
        except Exception as e:  # noqa: BLE001 -- reported to the test
            report = {"error": f"{type(e).__name__}: {e}"}
    else:
        from seer.sandbox import launcher

        launcher.configure(allow_weak=args["allow_weak"])
        report = harness(args)
    print("REPORT " + json.dumps(report), flush=True)


if __name__ == "__main__" and sys.argv[1:2] == ["probe"]:
    _probe_main(json.loads(sys.argv[2]))


def test_spare_session_leaders_killed_from_outside_are_replaced() -> None:
    """The fork server keeps session leaders forked ahead of requests (zygote.SPARES); a run
    still starts when they were killed meanwhile."""
    import signal
    import time

    from seer.data.schemas import Tests
    from seer.sandbox import launcher, run_tests

    tests = Tests("call", [{"input": [], "output": 1}], fn_name="f")
    assert run_tests(CONTROL, tests).passed
    server = launcher.get().proc.pid
    time.sleep(0.2)  # the run's own processes are gone; the spares wait
    spares = []
    for name in os.listdir("/proc"):
        with contextlib.suppress(OSError, ValueError):
            if name.isdigit() and int(Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()[1]) == server:
                spares.append(int(name))
    assert spares
    for pid in spares:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(os.path.exists(f"/proc/{pid}") for pid in spares) and time.monotonic() < deadline:
        time.sleep(0.01)  # gone (killed at the very moment of a hand-over, the run would err)
    assert run_tests(CONTROL, tests).passed
    assert launcher.get().proc.pid == server  # the same fork server
