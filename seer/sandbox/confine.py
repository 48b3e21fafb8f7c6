"""The runner's entry into isolation; runs inside the sandboxed interpreter (stdlib only).

``enter`` is called by the driver in each freshly forked runner, before any candidate code is
compiled or run: it puts the runner's fds in place and closes every other one, makes the runner
unable to gain privileges, applies the rlimits, drops to the sandbox uid and sets the cwd-relative
state of the interpreter. See ``seer/sandbox/isolation.py`` for what each sandbox mode isolates.
"""
import ctypes
import os
import resource
import sys

REPORT_FD = 3  # runner -> driver reports; the re-opened sys.path directories follow it
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 4, 38
_prctl = ctypes.CDLL(None).prctl  # ctypes is already loaded in the fork server


def enter(p: dict, report_w: int, stdio: tuple | None, path_fds: list, path_dirs: list) -> None:
    """Confine the calling runner: fds, no_new_privs, rlimits, uid, interpreter paths."""
    if stdio is not None:
        os.dup2(stdio[0], 0)
        os.dup2(stdio[1], 1)
    keep = [report_w] + path_fds
    high = [os.dup2(fd, 200 + k) for k, fd in enumerate(keep)]  # out of the way of the targets
    for k, fd in enumerate(high):
        os.dup2(fd, REPORT_FD + k)
    os.closerange(REPORT_FD + len(keep), resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    if not p["pidns"]:  # no namespace to take everything down with the driver
        os.setpgid(0, 0)
        _prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)
    if _prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:  # setuid-root binaries stay unprivileged
        raise OSError("prctl(PR_SET_NO_NEW_PRIVS) failed")
    for name, value in p["limits"].items():
        res = getattr(resource, name)
        soft, hard = value if isinstance(value, tuple) else (value, value)
        cur_hard = resource.getrlimit(res)[1]
        if cur_hard != resource.RLIM_INFINITY and os.geteuid() != 0:
            soft, hard = min(soft, cur_hard), min(hard, cur_hard)
        resource.setrlimit(res, (soft, hard))
    if p["uid"] >= 0:
        os.setgroups([])
        os.setresgid(p["gid"], p["gid"], p["gid"])
        os.setresuid(p["uid"], p["uid"], p["uid"])
        dirs = [f"/proc/self/fd/{REPORT_FD + 1 + k}" for k in range(len(path_fds))]
        sys.path[:] = dirs
        for mod in list(sys.modules.values()):  # packages already imported keep importing submodules
            paths = getattr(mod, "__path__", None)
            if isinstance(paths, list):
                for j, d in enumerate(paths):
                    for o, n in zip(path_dirs, dirs):
                        if d.startswith(o + "/"):
                            paths[j] = n + d[len(o):]
        sys.path_importer_cache.clear()
    sys.dont_write_bytecode = True
    sys.argv[:] = ["main.py"]
