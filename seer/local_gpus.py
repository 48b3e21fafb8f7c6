"""Local multi-GPU placement: each concurrent `seer` job gets its own CUDA_VISIBLE_DEVICES.

Snakemake's `--resources gpu=N` caps how many GPUs the running jobs request in total, but it does
not tell a job WHICH devices are free (SLURM does: it sets CUDA_VISIBLE_DEVICES for `--gpus` jobs).
On a multi-GPU workstation, export SEER_LOCAL_GPUS="0,1,2,3": every `seer` process then claims its
stage's `gpu` count of devices before anything touches CUDA. A device is claimed by an exclusive
`flock` on `<lock_dir>/gpu<id>.lock`; the kernel drops the lock when the process exits, even on
SIGKILL, so a crashed job never leaks a device and there is nothing to clean up. Lock files are kept
per host, so a results directory on shared storage does not mix two machines' devices.

A process that finds too few free devices holds none and waits (no hold-and-wait, so no deadlock
between two jobs each wanting two devices).
"""
from __future__ import annotations

import fcntl
import logging
import os
import socket
import time
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Self

from seer.cluster import LOCAL_GPUS_ENV, stage_resources

log = logging.getLogger(__name__)


def parse_devices(spec: str) -> list[str]:
    """"0,1, 3" -> ["0", "1", "3"]; a device may be an index or a GPU UUID (as CUDA_VISIBLE_DEVICES)."""
    devices = [d.strip() for d in spec.split(",") if d.strip()]
    if len(set(devices)) != len(devices):
        raise ValueError(f"{LOCAL_GPUS_ENV}={spec!r}: a device is listed twice")
    return devices


@dataclass
class GpuLease:
    """Devices held by this process until `release()` (or until it exits)."""

    devices: list[str]
    _files: list[IO[str]] = field(default_factory=list, repr=False)

    def release(self) -> None:
        for f in self._files:
            fcntl.flock(f, fcntl.LOCK_UN)
            f.close()
        self._files.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _try_lock(path: Path) -> IO[str] | None:
    f = open(path, "a+")  # noqa: SIM115 - held open as long as the lease: closing it drops the lock
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        return None
    # who holds it, for a human looking at the directory; the lock itself is the flock
    f.seek(0)
    f.truncate()
    f.write(f"pid {os.getpid()}\n")
    f.flush()
    return f


def acquire(n: int, devices: Sequence[str], lock_dir: str | os.PathLike[str], timeout: float | None = None,
            poll: float = 0.5) -> GpuLease:
    """Claim `n` of `devices` (first free ones in list order), waiting up to `timeout` seconds
    (None = forever) for them to be free. Raises TimeoutError naming the lock directory."""
    if n > len(devices):
        raise ValueError(f"{n} GPUs wanted but only {len(devices)} listed ({','.join(devices)})")
    lock_dir = Path(lock_dir)
    lock_dir.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    warned = False
    while True:
        held: list[tuple[str, IO[str]]] = []
        for d in devices:
            if len(held) == n:
                break
            f = _try_lock(lock_dir / f"gpu{d}.lock")
            if f is not None:
                held.append((d, f))
        if len(held) == n:
            return GpuLease([d for d, _ in held], [f for _, f in held])
        GpuLease([], [f for _, f in held]).release()
        if timeout is not None and time.monotonic() - start >= timeout:
            raise TimeoutError(f"no {n} free GPUs of {','.join(devices)} within {timeout:.0f}s "
                               f"(locks in {lock_dir})")
        if not warned:
            log.info("waiting for %d free GPU(s) of %s (locks in %s)", n, ",".join(devices), lock_dir)
            warned = True
        time.sleep(poll)


def lock_dir_for(results_root: str | os.PathLike[str]) -> Path:
    return Path(results_root) / ".gpu-locks" / socket.gethostname()


def claim_local_gpus(cfg: Any, stage: str, environ: MutableMapping[str, str] | None = None,
                     timeout: float | None = None) -> GpuLease | None:
    """In local multi-GPU mode, claim the stage's GPUs and point CUDA_VISIBLE_DEVICES at them.

    Local mode means SEER_LOCAL_GPUS is set and CUDA_VISIBLE_DEVICES is not (under SLURM, or when
    the user pinned devices, placement is already decided). A stage without GPUs gets an empty
    CUDA_VISIBLE_DEVICES, so it cannot take memory on a device another job was given. Returns None
    outside local mode.
    """
    env: MutableMapping[str, str] = os.environ if environ is None else environ
    spec = env.get(LOCAL_GPUS_ENV, "").strip()
    if not spec or "CUDA_VISIBLE_DEVICES" in env:
        return None
    devices = parse_devices(spec)
    want = int(stage_resources(cfg, stage, environ=env)["gpu"])
    if want > len(devices):
        log.warning("%s wants %d GPUs but %s lists %d; using %d", stage, want, LOCAL_GPUS_ENV, len(devices),
                    len(devices))
        want = len(devices)
    lease = acquire(want, devices, lock_dir_for(cfg.results_root), timeout=timeout)
    env["CUDA_VISIBLE_DEVICES"] = ",".join(lease.devices)
    if want:
        log.info("%s: CUDA_VISIBLE_DEVICES=%s", stage, env["CUDA_VISIBLE_DEVICES"])
    return lease

