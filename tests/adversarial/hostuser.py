"""The unprivileged host user the adversarial suite runs the sandbox as, the way a normal user does.

``temporary_user(base)`` (needs root) creates a system user (``useradd -M -r``) and gives it what
a normal user of the project has, all owned by that user under ``base``: a home, its own venv
(whose site-packages a program could plant a ``.pth`` in) and its own copy of the project source.
The venv sees the caller's installed packages through a ``.pth`` line, so nothing is downloaded.
The base interpreter may sit under a directory the user cannot traverse (a pyenv build under
/root, mode 0700): such directories get a POSIX ACL entry letting this user alone traverse them.
Exiting the context removes those entries (and the ACL with the last of them), the user and its
files. ``current_user(base)`` is the same for the caller itself when it is not root: a home, venv
and project copy of its own under ``base`` (``dedicated`` is False: its other processes, keys and
files are not the suite's to judge).
"""
from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import pwd
import secrets
import shutil
import struct
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_ACL_XATTR = "system.posix_acl_access"
_USER_OBJ, _USER, _GROUP_OBJ, _MASK, _OTHER = 0x01, 0x02, 0x04, 0x10, 0x20
_NO_ID = 0xFFFFFFFF


@dataclass(frozen=True)
class HostUser:
    name: str
    uid: int
    gid: int
    home: Path  # owned by the user
    venv: Path  # the user's venv (owned by the user)
    site_packages: Path  # the user's venv's site-packages
    project: Path  # the user's copy of the project (owned by the user); on the venv's path
    dedicated: bool = True  # made for this session: all its processes, keys and files are the suite's

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python")

    def command(self, argv: list[str]) -> list[str]:
        """argv run as this user: no groups, no capabilities, no PAM session (hence no keyring)."""
        if self.uid == os.geteuid():
            return argv
        return ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups", "--", *argv]

    def environment(self, **extra: str) -> dict[str, str]:
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(self.home), "USER": self.name,
               "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        env.update(extra)
        return env


@contextlib.contextmanager
def temporary_user(base: Path, project_src: Path) -> Iterator[HostUser]:
    """A fresh unprivileged user with a home, a venv and a copy of ``project_src``'s ``seer``
    package under ``base`` (which must be traversable by everyone)."""
    if os.geteuid() != 0:
        raise PermissionError("creating a throwaway user needs root")
    name = f"seer-adv-{secrets.token_hex(3)}"
    subprocess.run(["useradd", "-M", "-r", "-s", "/usr/sbin/nologin", "-d", str(base / "home"), name],
                   check=True, capture_output=True)
    granted: list[str] = []
    try:
        pw = pwd.getpwnam(name)
        user = _furnish(base, project_src, pw)
        needed = [Path(sys._base_executable).resolve(), Path(sysconfig.get_paths()["stdlib"]),  # type: ignore[attr-defined]
                  *map(Path, _site_dirs()), base]
        granted = _grant_traversal(pw.pw_uid, needed)
        yield user
    finally:
        if granted:
            _revoke_traversal(pw.pw_uid, granted)
        subprocess.run(["userdel", name], capture_output=True, check=False)  # gone already is fine
        for p in ("home", "venv", "project"):
            shutil.rmtree(base / p, ignore_errors=True)


@contextlib.contextmanager
def current_user(base: Path, project_src: Path) -> Iterator[HostUser]:
    """The caller (not root) with a home, a venv and a project copy of its own under ``base``."""
    try:
        yield dataclasses.replace(_furnish(base, project_src, pwd.getpwuid(os.geteuid())), dedicated=False)
    finally:
        for p in ("home", "venv", "project"):
            shutil.rmtree(base / p, ignore_errors=True)


def _furnish(base: Path, project_src: Path, pw: pwd.struct_passwd) -> HostUser:
    home, venv, project = base / "home", base / "venv", base / "project"
    home.mkdir(mode=0o700)
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(venv)],  # type: ignore[attr-defined]
                   check=True, capture_output=True)
    site = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    shutil.copytree(project_src / "seer", project / "seer", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    # the user's own project copy, and the caller's packages (read-only to the user)
    (site / "_seer_adversarial.pth").write_text("".join(f"{p}\n" for p in [project, *_site_dirs()]))
    if pw.pw_uid != os.geteuid():
        for top in (home, venv, project):
            for p in [top, *top.rglob("*")]:
                os.lchown(p, pw.pw_uid, pw.pw_gid)
    return HostUser(pw.pw_name, pw.pw_uid, pw.pw_gid, home, venv, site, project)


def _site_dirs() -> list[str]:
    """The caller's site-packages directories, also those its own .pth files added."""
    return [p for p in sys.path if p.endswith(("site-packages", "dist-packages")) and os.path.isdir(p)]


def _grant_traversal(uid: int, paths: list[Path]) -> list[str]:
    """Let ``uid`` traverse every directory leading to ``paths`` that others cannot traverse;
    returns those directories (for ``_revoke_traversal``). Concurrent sessions (each with its own
    user) may do the same to the same directory: the ACL is edited under a lock, entry by entry."""
    dirs: list[str] = []
    for p in paths:
        for d in [*reversed(p.parents), p] if p.is_dir() else reversed(p.parents):
            if str(d) not in dirs and not os.stat(d).st_mode & 0o001:
                dirs.append(str(d))
    with _acl_lock():
        for k, d in enumerate(dirs):
            entries = _read_acl(d)
            entries = [e for e in entries if not (e[0] == _USER and e[2] == uid)] + [(_USER, 1, uid)]
            try:
                _write_acl(d, entries)
            except OSError as e:
                _revoke_unlocked(uid, dirs[:k])
                raise RuntimeError(f"cannot let the test user traverse {d} ({e.strerror}: no POSIX ACLs "
                                   "here?); make it traversable (chmod o+x) or move the venv") from e
    return dirs


def _revoke_traversal(uid: int, dirs: list[str]) -> None:
    with _acl_lock():
        _revoke_unlocked(uid, dirs)


def _revoke_unlocked(uid: int, dirs: list[str]) -> None:
    for d in dirs:
        entries = [e for e in _read_acl(d) if not (e[0] == _USER and e[2] == uid)]
        if any(e[0] not in (_USER_OBJ, _GROUP_OBJ, _MASK, _OTHER) for e in entries):
            _write_acl(d, entries)
            continue
        perm = {tag: p for tag, p, _ in entries}  # no named entries left: plain mode bits again
        special = os.stat(d).st_mode & 0o7000
        with contextlib.suppress(OSError):
            os.removexattr(d, _ACL_XATTR)
        os.chmod(d, special | perm[_USER_OBJ] << 6 | perm[_GROUP_OBJ] << 3 | perm[_OTHER])


@contextlib.contextmanager
def _acl_lock() -> Iterator[None]:
    fd = os.open("/run/lock/seer-adversarial-acl.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _read_acl(d: str) -> list[tuple[int, int, int]]:
    """(tag, perm, id) entries of d's access ACL; the mode bits as one when it has none."""
    try:
        blob = os.getxattr(d, _ACL_XATTR)
    except OSError:
        mode = os.stat(d).st_mode
        return [(_USER_OBJ, mode >> 6 & 7, _NO_ID), (_GROUP_OBJ, mode >> 3 & 7, _NO_ID), (_OTHER, mode & 7, _NO_ID)]
    return [struct.unpack("<HHI", blob[i:i + 8]) for i in range(4, len(blob), 8)]


def _write_acl(d: str, entries: list[tuple[int, int, int]]) -> None:
    entries = [e for e in entries if e[0] != _MASK]
    mask = 0  # the group class: the owning group and every named entry
    for tag, perm, _ in entries:
        if tag not in (_USER_OBJ, _OTHER):
            mask |= perm
    entries.append((_MASK, mask, _NO_ID))
    entries.sort(key=lambda e: (e[0], e[2]))
    os.setxattr(d, _ACL_XATTR, struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in entries))
