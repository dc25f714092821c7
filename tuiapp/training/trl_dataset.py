"""The datasets a run trains and evaluates on, converted to TRL's native rows, built lazily with `datasets`.

Rows stream from the source (local files through our readers, Hub ids through `datasets`) through the
format converter into `Dataset.from_generator`, which writes them to an Arrow cache on disk: a large set is
never held in memory twice. Rows that cannot be converted are dropped and counted, as the doctor reports.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from tuiapp.core.data.clean import eval_count
from tuiapp.core.data.records import DataError, ReadReport, Record
from tuiapp.core.data.shorten import shorten
from tuiapp.core.data.sources import is_local_source
from tuiapp.core.data.training_rows import KEEP_DROPPED, DropCount, training_rows
from tuiapp.core.user_paths import user_path

if TYPE_CHECKING:
    from datasets import Dataset

    from tuiapp.core.config import FTConfig

FEATURE_SAMPLE = 1000  # rows a large source's columns and their types are taken from


def _hub_error(dataset_id: str, exc: Exception) -> DataError:
    text = shorten(str(exc).strip().splitlines()[0], 300) if str(exc).strip() else type(exc).__name__
    name = type(exc).__name__
    if "NotFound" in name or "doesn't exist" in text or "not found" in text.lower():
        return DataError(
            f"no dataset {dataset_id!r} on the Hugging Face Hub or in the local cache ({text}). Check the id; "
            "for a private or gated one set HF_TOKEN; for a local file give its path"
        )
    if "Connection" in name or "offline" in text.lower() or "Offline" in name:
        return DataError(
            f"cannot reach the Hub for {dataset_id!r} and it is not in the local cache ({text}). "
            "Connect to the network, or download it once and then work offline"
        )
    if "split" in text.lower() or "config" in text.lower():
        return DataError(f"{dataset_id}: {text}. Choose the config with --config-name and the split with --split")
    return DataError(f"cannot load the Hub dataset {dataset_id!r} ({name}: {text})")


def hub_records(
    dataset_id: str, config_name: str | None, split: str, *, limit: int | None = None, streaming: bool = True
) -> Iterator[Record]:
    """Rows of a Hub dataset (or the local HF cache when offline), each with `id[split] row N` as its place."""
    import os

    from datasets import load_dataset

    offline = os.environ.get("HF_DATASETS_OFFLINE") == "1" or os.environ.get("HF_HUB_OFFLINE") == "1"
    try:
        dataset = load_dataset(dataset_id, config_name, split=split, streaming=streaming and not offline)
        for index, row in enumerate(dataset):
            if limit is not None and index >= limit:
                return
            yield Record(dict(row), f"{dataset_id}[{split}] row {index + 1}")
    except DataError:
        raise
    except Exception as exc:  # datasets raises many kinds for the same few causes; classify by name and text
        raise _hub_error(dataset_id, exc) from None


def source_records(config: FTConfig, report: ReadReport, *, split: str | None = None) -> Iterator[Record]:
    """The raw rows of the configured source: a local file or folder, else a Hub dataset id."""
    from tuiapp.core.data.sources import read_records

    assert config.dataset is not None
    if is_local_source(config.dataset.source):  # a missing one raises a DataError naming the path
        return read_records(config.dataset.source, skip_bad=config.dataset.skip_bad, report=report)
    return hub_records(config.dataset.source, config.dataset.config_name, split or config.dataset.split)


def _rows(config: FTConfig, split: str | None, counts: DropCount) -> Iterator[dict[str, Any]]:
    report = ReadReport()
    yield from training_rows(config, source_records(config, report, split=split), counts)
    counts.dropped_count += report.skipped_count  # lines skipped while reading (dataset.skip_bad) count too
    counts.dropped += report.skipped[: max(0, KEEP_DROPPED - len(counts.dropped))]


def _nested_feature(values: list[Any]) -> Any:
    """List(Json()) for a column of message lists, Json() for other nested or mixed values, else None."""
    from datasets import Json, List

    present = [value for value in values if value is not None]
    if present and all(isinstance(v, list) and all(isinstance(item, dict) for item in v) for v in present):
        return List(Json())
    return Json() if any(isinstance(value, dict | list) for value in present) else None


def row_features(rows: list[dict[str, Any]]) -> Any:
    """Features for every column of `rows` (`Dataset.from_list` keeps only the first row's), nested values as
    JSON: Arrow would otherwise give each turn every key some other turn has, as None (`tools` of one row,
    `tool_calls: None` on a user turn, which templates such as Llama 3's read as a tool call)."""
    from datasets import Dataset, Features

    table = {column: [row.get(column) for row in rows] for column in dict.fromkeys(k for row in rows for k in row)}
    nested = {column: _nested_feature(values) for column, values in table.items()}
    plain = {column: values for column, values in table.items() if nested[column] is None}
    inferred = Dataset.from_dict(plain, on_mixed_types="use_json").features
    return Features({column: nested[column] or inferred[column] for column in table})


def _rows_with(
    columns: tuple[str, ...], config: FTConfig, split: str | None, counts: DropCount
) -> Iterator[dict[str, Any]]:
    for row in _rows(config, split, counts):
        yield {column: row.get(column) for column in columns}


def _build(config: FTConfig, split: str | None, counts: DropCount) -> Dataset:
    from contextlib import closing
    from itertools import islice

    from datasets import Dataset

    dataset = None
    if _small(config):
        rows = list(_rows(config, split, counts))
        if rows:
            features = row_features(rows)
            dataset = Dataset.from_dict({c: [row.get(c) for row in rows] for c in features}, features=features)
    else:  # a large source: stream through the Arrow cache instead of a Python list; columns from a sample
        probe = DropCount()
        with closing(_rows(config, split, probe)) as head:
            sample = list(islice(head, FEATURE_SAMPLE))
        if sample:
            features = row_features(sample)
            # a tuple: `datasets` splits list arguments into shards, one generator call per item
            kwargs = {"columns": tuple(features), "config": config, "split": split, "counts": counts}
            fingerprint = _fingerprint(config, split)
            dataset = Dataset.from_generator(_rows_with, features=features, gen_kwargs=kwargs, fingerprint=fingerprint)
        else:  # every row was dropped: report what the sample saw
            counts.dropped, counts.dropped_count = probe.dropped, probe.dropped_count
    if dataset is None or len(dataset) == 0:
        example = f" (e.g. {counts.dropped[0].where}: {counts.dropped[0].reason})" if counts.dropped else ""
        raise DataError(f"{config.dataset.source} has no rows to train on{example}")  # type: ignore[union-attr]
    return dataset


def _fingerprint(config: FTConfig, split: str | None) -> str:
    """The Arrow cache's key: the dataset settings, the task and each local file's size and modification time,
    so an edited file is converted again (`datasets` would otherwise reuse the rows of the first run)."""
    import hashlib
    import json

    assert config.dataset is not None
    path = user_path(config.dataset.source)
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else []
    stats = [(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    settings = {"dataset": config.dataset.model_dump(), "task": config.task, "split": split, "files": stats}
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _small(config: FTConfig) -> bool:
    """Local sources under 64 MB are converted in memory (Arrow's generator cache would outlive the run)."""
    assert config.dataset is not None
    path = user_path(config.dataset.source)
    if not path.exists():
        return False
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) < 64 * 2**20


def build_trl_datasets(config: FTConfig) -> tuple[Dataset, Dataset | None, DropCount]:
    """(train, eval or None, what was dropped): eval is `dataset.eval_split` or `eval_size` rows carved out."""
    assert config.dataset is not None
    if config.dataset.eval_split and is_local_source(config.dataset.source):
        raise DataError(
            f"dataset.eval_split ({config.dataset.eval_split}) names a Hub split, but {config.dataset.source} is a "
            "local file or folder, which has one split: clear eval_split and set dataset.eval_size instead"
        )
    if is_local_source(config.dataset.source) and (config.dataset.config_name or config.dataset.split != "train"):
        raise DataError(
            f"dataset.split ({config.dataset.split}) and dataset.config_name ({config.dataset.config_name}) choose "
            f"part of a Hub dataset, but {config.dataset.source} is a local file or folder, which has one split: "
            "remove them (split: train, no config_name)"
        )
    counts = DropCount()
    train = _build(config, None, counts)
    if counts.dropped_count and not config.dataset.skip_bad:
        first = counts.dropped[0]
        raise DataError(
            f"{counts.dropped_count} row(s) of {config.dataset.source} cannot train (e.g. {first.where}: "
            f"{first.reason}); fix them, or set dataset.skip_bad: true to leave them out (they are counted)"
        )
    if config.dataset.eval_split:
        return train, _build(config, config.dataset.eval_split, DropCount()), counts
    held = eval_count(config.dataset.eval_size, len(train))
    if not held:
        return train, None, counts
    if held >= len(train):
        raise DataError(f"dataset.eval_size {config.dataset.eval_size} leaves no training rows out of {len(train)}")
    parts = train.train_test_split(test_size=held, seed=config.training.seed, shuffle=True)
    return parts["train"], parts["test"], counts
