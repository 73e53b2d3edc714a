"""The results contract (radplug.results): docs/output.md describes every published table, and the writer refuses a
published table that lacks a declared column or repeats a key (a radplug bug, stopped before anything is written).
A real run's tables are checked against it in tests/pipeline/test_pipeline.py."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO

from radplug.io import write_parquet
from radplug.results import TABLES, published_table


def test_output_md_describes_every_published_table() -> None:
    text = (REPO / "docs" / "output.md").read_text()
    for table in TABLES:
        folder = table.path.split("/")[0]
        assert table.name in text, f"docs/output.md does not describe {table.path}"
        assert f"`{folder}/`" in text, f"docs/output.md has no section for {folder}/"
        for column in table.keys:
            assert column in text, f"docs/output.md does not name {table.path}'s key column {column}"
    assert len({t.path for t in TABLES}) == len(TABLES)


def test_writer_refuses_a_table_that_breaks_the_contract(tmp_path: Path) -> None:
    table = published_table("binarize", "tasks.parquet")
    good = pd.DataFrame({c: ["a", "b"] for c in table.columns})
    write_parquet(good, tmp_path / "tasks.parquet", "binarize")
    with pytest.raises(ValueError, match=r"data/tasks.parquet .* missing column\(s\) n_train"):
        write_parquet(good.drop(columns="n_train"), tmp_path / "a" / "tasks.parquet", "binarize")
    with pytest.raises(ValueError, match=r"1 row\(s\) repeat a key \(target\)"):
        write_parquet(pd.concat([good, good.iloc[:1]]), tmp_path / "x" / "tasks.parquet", "binarize")
    assert not (tmp_path / "a").exists() and not (tmp_path / "x").exists()
    # the same file name from another step (e.g. a test's own table) is not a published table
    write_parquet(good.drop(columns="n_train"), tmp_path / "y" / "tasks.parquet", "test")
