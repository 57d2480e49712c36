"""The parquet appender: tables in order, one schema, a file that exists only once complete."""

from __future__ import annotations

from pathlib import Path

import hypothesis.extra.numpy as hnp
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from h200cast.io import parquet


def _table(run: str, first: int, n: int) -> pa.Table:
    return pa.table(
        {
            "run": pa.array([run] * n).dictionary_encode(),
            "point": pa.array(range(first, first + n), type=pa.int64()),
        }
    )


def test_tables_are_appended_in_order_under_the_first_schema(tmp_path: Path) -> None:
    f = tmp_path / "results.parquet"
    with parquet.Appender(f) as append:
        append(_table("open_market", 0, 3))
        append(_table("customs_ban", 3, 2))  # another category: the same type
        assert not f.exists()  # nothing at the final name until it is complete
    got = pq.read_table(f)
    assert append.rows == 5 == got.num_rows
    assert got.column("point").to_pylist() == [0, 1, 2, 3, 4]
    assert got.column("run").to_pylist() == ["open_market"] * 3 + ["customs_ban"] * 2
    assert [p.name for p in tmp_path.iterdir()] == ["results.parquet"]


def test_an_interrupted_append_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    f = tmp_path / "results.parquet"
    f.write_text("the previous results")
    with pytest.raises(KeyboardInterrupt), parquet.Appender(f) as append:
        append(_table("open_market", 0, 3))
        raise KeyboardInterrupt
    assert f.read_text() == "the previous results"
    assert [p.name for p in tmp_path.iterdir()] == ["results.parquet"]


def _dictionary_encoded(f: Path) -> dict[str, bool]:
    meta = pq.ParquetFile(f).metadata
    group = meta.row_group(0)
    return {
        group.column(i).path_in_schema: group.column(i).has_dictionary_page
        for i in range(meta.num_columns)
    }


@pytest.mark.parametrize("how", ["write", "atomic", "writer"])
def test_only_text_and_categories_get_a_dictionary(tmp_path: Path, how: str) -> None:
    """Numbers that repeat would still be written plain: a dictionary is for text only."""
    table = pa.table(
        {
            "run": pa.array(["open_market", "customs_ban"] * 50).dictionary_encode(),
            "label": pa.array(["2026-01", "2026-02"] * 50),
            "point": pa.array([1, 2] * 50, type=pa.int64()),
            "value": pa.array([0.5, 1.5] * 50),
        }
    )
    f = tmp_path / "t.parquet"
    if how == "writer":
        with parquet.writer(f, table.schema) as w:
            w.write_table(table)
    else:
        parquet.write(table, f, atomic=how == "atomic")
    assert _dictionary_encoded(f) == {"run": True, "label": True, "point": False, "value": False}
    assert pq.read_table(f).equals(table)


@given(
    values=hnp.arrays(
        st.sampled_from([np.float64, np.int64, np.int32, np.bool_]),
        st.integers(0, 300),
    ),
    step=st.integers(1, 3),
)
def test_a_numpy_column_is_the_array_pyarrow_makes(values: np.ndarray, step: int) -> None:
    """column() wraps a buffer instead of calling pa.array: the same values and type, also for
    a strided slice (the booleans bit-packed)."""
    v = values[::step]
    got, ref = parquet.column(v), pa.array(v)
    assert got.type == ref.type and got.null_count == ref.null_count == 0  # a NaN is a value
    np.testing.assert_array_equal(got.to_numpy(zero_copy_only=False), v)  # NaN equals NaN here
    assert got.equals(ref) or bool(np.isnan(v).any())


def test_a_category_is_one_word_repeated() -> None:
    got = parquet.category("selective_approval", 4)
    assert got.equals(pa.array(["selective_approval"] * 4).dictionary_encode())
    assert got.type == pa.dictionary(pa.int32(), pa.string())
