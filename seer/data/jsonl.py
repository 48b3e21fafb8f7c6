"""jsonl reading and atomic writing.

Readers report the file and line of a malformed record; writers never leave a half-written file
under the final name (temp file in the same directory, fsync, rename), so a killed job or a full
disk loses nothing that was already there.
"""
from __future__ import annotations

import contextlib
import errno
import gzip
import io
import json
import os
import tempfile
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")


class DataError(ValueError):
    """A data file is malformed; the message names the file and line."""


def _open_text(path: Path, mode: str) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, mode + "t", encoding="utf-8")  # type: ignore[return-value]
    return open(path, mode, encoding="utf-8")


def iter_jsonl(path: str | os.PathLike[str], parse: Callable[[dict[str, Any]], T] | None = None,
               skip_truncated_tail: bool = False) -> Iterator[T]:
    """Yield records of a jsonl(.gz) file, optionally converted by ``parse``.

    A malformed line raises DataError naming ``path:line``. With ``skip_truncated_tail`` a broken
    *last* line (a record cut by a killed writer) is ignored instead — used when resuming shards.
    """
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: file not found")
    with _open_text(p, "r") as f:
        lines = f.readlines() if skip_truncated_tail else None
        it: Iterable[str] = lines if lines is not None else f
        n_lines = len(lines) if lines is not None else -1
        for lineno, line in enumerate(it, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                if skip_truncated_tail and lineno == n_lines:
                    return
                raise DataError(f"{p}:{lineno}: invalid JSON ({e.msg} at column {e.colno})") from None
            if not isinstance(rec, dict):
                raise DataError(f"{p}:{lineno}: expected a JSON object, got {type(rec).__name__}")
            if parse is None:
                yield rec  # type: ignore[misc]
                continue
            try:
                yield parse(rec)
            except (ValueError, TypeError, KeyError) as e:
                raise DataError(f"{p}:{lineno}: {e}") from None


def read_jsonl(path: str | os.PathLike[str], parse: Callable[[dict[str, Any]], T] | None = None) -> list[T]:
    return list(iter_jsonl(path, parse))


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temp file beside ``path``; rename it over ``path`` only if the block succeeds."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as raw:
            if p.suffix == ".gz":
                # mtime=0 keeps gzip output byte-identical across reruns
                with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
                    f: IO[Any] = io.TextIOWrapper(gz, encoding="utf-8") if "b" not in mode else gz
                    yield f
                    f.flush()
                    if isinstance(f, io.TextIOWrapper):
                        f.detach()
            else:
                f = io.TextIOWrapper(raw, encoding="utf-8") if "b" not in mode else raw
                yield f
                f.flush()
                if isinstance(f, io.TextIOWrapper):
                    f.detach()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, p)
    except OSError as e:
        _unlink_quiet(tmp)
        if e.errno == errno.ENOSPC:
            raise OSError(e.errno, f"disk full while writing {p}; the previous version (if any) is intact") from e
        raise
    except BaseException:
        _unlink_quiet(tmp)
        raise


def _unlink_quiet(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def dumps(record: Any) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def write_jsonl(path: str | os.PathLike[str], records: Iterable[Any]) -> int:
    """Atomically write records (dicts or objects with ``to_dict``); returns the count."""
    n = 0
    with atomic_open(path) as f:
        for r in records:
            f.write(dumps(r.to_dict() if hasattr(r, "to_dict") else r) + "\n")
            n += 1
    return n


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    with atomic_open(path) as f:
        json.dump(obj, f, indent=2, ensure_ascii=False, sort_keys=True)
        f.write("\n")


class JsonlAppender:
    """Append records one per line, flushed and fsynced per record (shard outputs that resume).

    Plain (uncompressed) jsonl only: a killed writer leaves at most one truncated last line, which
    ``iter_jsonl(..., skip_truncated_tail=True)`` ignores and ``repair`` cuts off before appending.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.repair()
        self._f = open(self.path, "a", encoding="utf-8")

    def repair(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            with open(self.path, "r+b") as f:
                f.truncate(cut)

    def append(self, record: Any) -> None:
        self._f.write(dumps(record.to_dict() if hasattr(record, "to_dict") else record) + "\n")
        self._f.flush()
        os.fsync(self._f.fileno())

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> "JsonlAppender":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
