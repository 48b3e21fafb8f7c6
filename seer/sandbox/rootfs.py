"""The sandbox's file system: a minimal read-only root (stdlib only; runs inside the fork server).

``enter_minimal_root`` is called once by the fork server, in a mount namespace of its own: it
builds a tmpfs holding only what the interpreter needs, pivots into it and makes it read-only, so
every run (whose mount namespace is a copy of this one) sees

- the standard library directories of ``sys.path`` (``-S``: no site-packages; the
  ``site-packages`` directory inside the stdlib is covered by an empty read-only tmpfs),
- the interpreter binary and every shared library it or a ``lib-dynload`` extension needs
  (found from their ELF ``DT_NEEDED`` entries), ``/etc/ld.so.cache``,
- ``/dev/null``, ``/dev/zero``, ``/dev/full``, ``/dev/random``, ``/dev/urandom`` and the
  ``/dev/fd``, ``/dev/std*`` links,
- empty mount points for the run's own ``/proc``, ``/tmp`` (its cwd) and ``/dev/shm``,

all at their host paths, read-only, and nothing else: no /home, /root (beyond the interpreter
prefix), /srv, /run, /etc, the project, its data or caches, no host unix sockets. The host's
/proc stays mounted at /proc underneath each run's own /proc: the kernel lets a user namespace
mount a new proc only where one is already fully visible, and the run covers it with its own.
"""
import ctypes
import mmap
import os
import platform
import struct
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC, MS_PRIVATE, MS_RELATIME = 1024, 2048, 4096, 1 << 14, 1 << 18, 1 << 21
MNT_DETACH = 2
# statvfs f_flag bit -> mount flag: a bind remount must repeat the flags the kernel locked on it
_LOCKED_FLAGS = ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC),
                 (os.ST_NOATIME, MS_NOATIME), (os.ST_NODIRATIME, MS_NODIRATIME),
                 (os.ST_RELATIME, MS_RELATIME))
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
DEV_LINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
             "stderr": "/proc/self/fd/2"}
RUN_MOUNT_POINTS = ("/proc", "/tmp", "/dev/shm")  # mounted per run (zygote.py)

_libc = ctypes.CDLL(None, use_errno=True)


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def mount(src: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc.mount(src.encode() if src else None, target.encode(),
                       fstype.encode() if fstype else None, ctypes.c_ulong(flags),
                       data.encode() if data else None), f"mount {target}")


def enter_minimal_root() -> None:
    """Pivot the calling process into the minimal root; it must be in a mount namespace of its
    own whose mounts are private (nothing done here may reach the host's mounts)."""
    stdlib = [d for d in sys.path if os.path.isdir(d)]
    binaries = [os.path.realpath(sys.executable)] + [
        os.path.join(d, f) for d in stdlib for f in sorted(os.listdir(d)) if f.endswith(".so")]
    sources = stdlib + sorted(shared_libraries(binaries)) + [os.path.realpath(sys.executable)]
    sources += [p for p in ("/etc/ld.so.cache", *DEVICES) if os.path.exists(p)]
    base = next(d for d in ("/mnt", "/tmp", "/var/tmp", "/opt")
                if os.path.isdir(d) and not any(_under(s, d) for s in sources))
    mount("tmpfs", base, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,nr_inodes=4096,mode=0755")
    bound: list[str] = []
    for src in sources:
        if not any(_under(src, b) for b in bound):
            _bind(src, base, _place(src, base), bound)
    for d in stdlib:  # -S keeps it off sys.path; make sure nothing there can be reached either
        site = os.path.join(d, "site-packages")
        if os.path.isdir(site):
            mount("tmpfs", base + site, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "size=4k,nr_inodes=16,mode=0555")
    for d in RUN_MOUNT_POINTS:
        os.makedirs(base + d, mode=0o755, exist_ok=True)
    for name, target in DEV_LINKS.items():
        os.symlink(target, f"{base}/dev/{name}")
    _mount_host_proc(base)
    os.chdir(base)
    _check(_libc.syscall(_SYS_PIVOT_ROOT[platform.machine()], b".", b"."), "pivot_root")
    _check(_libc.umount2(b".", MNT_DETACH), "umount the old root")
    os.chdir("/")
    mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _mount_host_proc(base: str) -> None:
    os.makedirs(base + "/proc", exist_ok=True)
    mount("/proc", base + "/proc", None, MS_BIND | MS_REC)


def _under(path: str, d: str) -> bool:
    return path == d or path.startswith(d.rstrip("/") + "/")


def _place(path: str, root: str) -> str:
    """Create ``path`` under ``root`` as it resolves on the host (its symlinks copied as symlinks);
    returns the real path, the one to bind."""
    parts = [p for p in path.split("/") if p]
    cur = ""
    for k, part in enumerate(parts):
        cur += "/" + part
        if os.path.islink(cur):
            if not os.path.lexists(root + cur):
                os.symlink(os.readlink(cur), root + cur)
            rest = "/".join(parts[k + 1:])
            real = os.path.realpath(cur)
            return _place(os.path.join(real, rest) if rest else real, root)
        if k < len(parts) - 1:
            os.makedirs(root + cur, mode=0o755, exist_ok=True)
    if os.path.isdir(cur):
        os.makedirs(root + cur, mode=0o755, exist_ok=True)
    elif not os.path.exists(root + cur):
        os.close(os.open(root + cur, os.O_CREAT | os.O_WRONLY, 0o644))
    return cur


def _bind(src: str, root: str, real: str, bound: list[str]) -> None:
    if any(_under(real, b) for b in bound):
        return
    target = root + real
    mount(real, target, None, MS_BIND | MS_REC)
    flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID
    if not src.startswith("/dev/"):
        flags |= MS_NODEV
    f_flag = os.statvfs(real).f_flag
    for st, ms in _LOCKED_FLAGS:
        if f_flag & st:
            flags |= ms
    mount(None, target, None, flags)
    bound.append(real)


# --- which shared libraries the interpreter needs -------------------------------------------
_DT_NEEDED, _DT_STRTAB, _DT_RPATH, _DT_RUNPATH = 1, 5, 15, 29


def shared_libraries(binaries: list[str]) -> set[str]:
    """Paths (as found, possibly symlinks) of every library the ELF files need, transitively,
    plus their program interpreter (``ld.so``) and libgcc_s (which glibc loads by itself)."""
    multiarch = getattr(sys.implementation, "_multiarch", "")
    system = [d for d in (f"/lib/{multiarch}", f"/usr/lib/{multiarch}", "/lib64", "/usr/lib64",
                          "/lib", "/usr/lib", "/usr/local/lib") if os.path.isdir(d)]
    found: set[str] = set()
    todo = list(binaries)
    seen: set[str] = set()
    extra = ["libgcc_s.so.1"]
    while todo or extra:
        if extra:
            path = _resolve(extra.pop(), [], system)
            if path is None:
                continue
        else:
            path = todo.pop()
        real = os.path.realpath(path)
        if real in seen:
            continue
        seen.add(real)
        if path not in binaries:
            found.add(path)
        needed, search, interp = _elf_dynamic(real)
        if interp:
            found.add(interp)
        dirs = [d.replace("$ORIGIN", os.path.dirname(real)) for d in search] + system
        for name in needed:
            lib = _resolve(name, dirs, system)
            if lib is not None:
                todo.append(lib)
    return found


def _resolve(name: str, dirs: list[str], system: list[str]) -> str | None:
    for d in dirs or system:
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    return None


def _elf_dynamic(path: str) -> tuple[list[str], list[str], str]:
    """(DT_NEEDED names, RPATH/RUNPATH dirs, PT_INTERP) of a 64-bit little-endian ELF file."""
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as m:
        if m[:4] != b"\x7fELF" or m[4] != 2 or m[5] != 1:
            raise OSError(f"{path}: not a 64-bit little-endian ELF file")
        phoff, = struct.unpack_from("<Q", m, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", m, 0x36)
        loads, dynamic, interp = [], None, ""
        for k in range(phnum):
            p_type, _, off, vaddr, _, filesz, _, _ = struct.unpack_from("<IIQQQQQQ", m, phoff + k * phentsize)
            if p_type == 1:
                loads.append((vaddr, filesz, off))
            elif p_type == 2:
                dynamic = (off, filesz)
            elif p_type == 3:
                interp = m[off:off + filesz].rstrip(b"\0").decode()
        if dynamic is None:
            return [], [], interp
        entries = [struct.unpack_from("<qQ", m, dynamic[0] + j) for j in range(0, dynamic[1], 16)]
        strtab = next((v for t, v in entries if t == _DT_STRTAB), None)
        if strtab is None:
            return [], [], interp
        base = next(off + strtab - vaddr for vaddr, size, off in loads if vaddr <= strtab < vaddr + size)

        def string(o: int) -> str:
            return m[base + o:m.find(b"\0", base + o)].decode()

        needed = [string(v) for t, v in entries if t == _DT_NEEDED]
        search = [d for t, v in entries if t in (_DT_RPATH, _DT_RUNPATH) for d in string(v).split(":") if d]
        return needed, search, interp
