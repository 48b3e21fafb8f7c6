"""Reading the data files shipped inside the package (seer/data/bundled, see its SOURCES.md).

Always through importlib.resources, so the package works from a wheel or a zip as well as from a
source checkout; nothing outside the package is read at run time.
"""
from __future__ import annotations

import gzip
import io
import json
from importlib import resources
from typing import IO, Any

from seer.data.jsonl import DataError


def open_bundled(relpath: str) -> IO[str]:
    """Open ``seer/data/bundled/<relpath>`` as text (transparently gunzipped for ``.gz``)."""
    res = resources.files("seer.data").joinpath("bundled", *relpath.split("/"))
    if not res.is_file():
        raise DataError(f"bundled data file missing from the package: seer/data/bundled/{relpath}")
    raw = res.open("rb")
    if relpath.endswith(".gz"):
        return io.TextIOWrapper(gzip.GzipFile(fileobj=raw), encoding="utf-8")
    return io.TextIOWrapper(raw, encoding="utf-8")


def read_bundled_jsonl(relpath: str) -> list[dict[str, Any]]:
    out = []
    with open_bundled(relpath) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise DataError(f"seer/data/bundled/{relpath}:{lineno}: invalid JSON ({e.msg})") from None
    return out


def read_bundled_json(relpath: str) -> Any:
    with open_bundled(relpath) as f:
        return json.load(f)


def read_bundled_lines(relpath: str) -> list[str]:
    with open_bundled(relpath) as f:
        return [ln.strip() for ln in f if ln.strip()]
