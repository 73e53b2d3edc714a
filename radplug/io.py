"""Parquet and table I/O shared by every step: one writer, one reader, provenance in metadata."""

from __future__ import annotations

import gzip
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from radplug import SCHEMA_VERSION, __version__


class RadplugInputError(Exception):
    """Bad input: the message names the file, the row or column, and what to do."""


def safe_id(name: str) -> str:
    """A file- and shell-safe id for a target, feature or source name (file names, task tags, job ids):
    letters, digits, ``.``, ``_`` and ``-`` are kept, anything else becomes ``_``; when anything changed, 6 hex
    digits of the name's SHA-1 are appended, so that two names never share an id. Safe names are unchanged."""
    import hashlib
    import re

    s = re.sub(r"[^A-Za-z0-9._-]", "_", str(name)).strip(".") or "_"
    if s != name:
        s = f"{s}-{hashlib.sha1(str(name).encode()).hexdigest()[:6]}"
    return s


def provenance(step: str, **extra: Any) -> dict[str, Any]:
    """Provenance record stored in every Parquet file radplug writes."""
    return {
        "step": step,
        "radplug_version": __version__,
        "python": sys.version.split()[0],
        "host": platform.node(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **extra,
    }


def write_parquet(df: pd.DataFrame, path: str | os.PathLike, step: str, **extra: Any) -> Path:
    """Write ``df`` atomically with radplug's schema version and provenance in the file metadata. A table the
    pipeline publishes (``radplug.results.TABLES``) must have its declared columns and unique keys."""
    from radplug.results import published_table, table_problems

    path = Path(path)
    declared = published_table(step, path.name)
    problems = table_problems(df, declared) if declared else []
    if problems:
        raise ValueError(f"radplug {step}: {declared.path} does not meet the results contract (radplug.results): "
                         f"{'; '.join(problems)}. This is a radplug bug: please report it")
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(df, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[b"radplug.schema_version"] = SCHEMA_VERSION.encode()
    meta[b"radplug.provenance"] = json.dumps(provenance(step, **extra), default=str).encode()
    table = table.replace_schema_metadata(meta)
    tmp = path.with_name(path.name + ".partial")
    pq.write_table(table, tmp)
    os.replace(tmp, path)
    return path


def read_parquet(path: str | os.PathLike, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a Parquet table; a clear error names the file when it is missing or unreadable."""
    path = Path(path)
    if not path.exists():
        raise RadplugInputError(f"{path}: file not found")
    try:
        return pq.read_table(path, columns=columns).to_pandas()
    except Exception as exc:  # pyarrow raises several types
        raise RadplugInputError(f"{path}: not a readable Parquet file ({exc})") from exc


def read_provenance(path: str | os.PathLike) -> dict[str, Any]:
    """Schema version and provenance stored by :func:`write_parquet`."""
    meta = pq.read_schema(path).metadata or {}
    return {
        "schema_version": meta.get(b"radplug.schema_version", b"").decode(),
        **json.loads(meta.get(b"radplug.provenance", b"{}")),
    }


def read_expression(path: str | os.PathLike) -> pd.DataFrame:
    """Expression matrix written by INGEST: index sample_id, columns gene symbols, float32."""
    df = read_parquet(path)
    return df.set_index("sample_id")


def write_expression(expr: pd.DataFrame, path: str | os.PathLike, step: str, **extra: Any) -> Path:
    """Write an expression matrix (index = sample ids) as float32 with a sample_id column."""
    out = expr.astype("float32")
    out.index = out.index.astype(str)
    out.index.name = "sample_id"
    return write_parquet(out.reset_index(), path, step, **extra)


def write_json(obj: Any, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, default=str))
    return path


def _read_bytes(path: Path) -> bytes:
    """Bytes of a local input file, gunzipped; clear errors for missing, unreadable, empty or binary files."""
    if not path.exists():
        raise RadplugInputError(f"{path}: file not found; check the path in the samplesheet")
    if path.is_dir():
        raise RadplugInputError(f"{path}: is a folder, not a file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RadplugInputError(f"{path}: cannot be read ({exc.strerror}); check its permissions") from exc
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise RadplugInputError(
                f"{path}: a corrupt or truncated gzip file ({exc}); download it again"
            ) from exc
    if not data.strip():
        raise RadplugInputError(f"{path}: file is empty; check the path and write or download the file again")
    if b"\x00" in data[:4096]:
        raise RadplugInputError(
            f"{path}: looks like a binary file, not text (CSV/TSV/GCT/series matrix); "
            "check the file and its extension"
        )
    return data


def _decode(data: bytes) -> str:
    """UTF-8 text (a byte-order mark dropped), latin-1 when it is not UTF-8."""
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_text(path: Path) -> str:
    """Text of an input file (gzip allowed): the one reader behind every text format radplug ingests."""
    return _decode(_read_bytes(Path(path)))
