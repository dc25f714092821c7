"""Write tuiapp/sample_data/alpaca.parquet: the rows of alpaca.json as Parquet (run make_sample_data.py first).

Run: python scripts/make_sample_parquet.py (needs pyarrow, which `datasets` brings along).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

SAMPLES = Path(__file__).resolve().parents[1] / "tuiapp" / "sample_data"


def main() -> None:
    rows = json.loads((SAMPLES / "alpaca.json").read_text(encoding="utf-8"))
    table = pa.Table.from_pylist(rows)
    pq.write_table(table, SAMPLES / "alpaca.parquet", row_group_size=32, compression="zstd")
    print(f"{SAMPLES / 'alpaca.parquet'}: {table.num_rows} rows, {(SAMPLES / 'alpaca.parquet').stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
