"""A LLaMA-Factory config read into ours: its keys through the exporter's tables (tuiapp/core/export/llamafactory.py),
and here the model, the stage and the dataset, looked up by name in the dataset_info.json under `dataset_dir` and
read back through the exporter's FORMATTING table (formatting, columns and tags -> our format and renames)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tuiapp.core.export.llamafactory import (
    DATASET_INFO,
    FORMATTING,
    LF_KEYS,
    MESSAGE_TAGS,
    OPENAI_TAGS,
    llamafactory_export,
)
from tuiapp.core.imports.reading import READER_COVERS, Reading, Tool, printable, shown
from tuiapp.core.user_error import UserError

MAX_INFO_BYTES = 4 * 1024 * 1024  # LLaMA-Factory's own dataset_info.json is ~30 KB
STAGES = ("sft", "pt")  # pt: plain text, every token learned (how the exporter writes our text format)
READ_HERE = ("file_name", "hf_hub_url", "subset", "split", "formatting", "columns", "tags")
# LLaMA-Factory's columns when an entry names none are our alpaca and sharegpt names (FORMATTING)
DEFAULT_COLUMNS = {"alpaca": "alpaca", "sharegpt": "sharegpt"}


def _read(reading: Reading) -> None:
    from tuiapp.core.export.export_result import from_export

    model = reading.data["model_name_or_path"]
    reading.put(
        "model.name_or_path",
        from_export(model, reading.source) if isinstance(model, str) else model,
        ("model_name_or_path",),
    )
    stage = reading.data.get("stage", "sft")  # LLaMA-Factory's own default stage
    if stage not in STAGES:
        reading.refuse(
            ("stage",),
            "ftwizard imports supervised fine-tuning (sft, or pt on plain text) for now",
            "set stage: sft to import it as supervised fine-tuning",
        )
    if "dataset" in reading.data:
        _dataset(reading, stage)


def _dataset(reading: Reading, stage: str) -> None:
    named = reading.data["dataset"]
    names = [n.strip() for n in named.split(",") if n.strip()] if isinstance(named, str) else named
    if not isinstance(names, list) or not names or not all(isinstance(name, str) for name in names):
        reading.lose(("dataset",), named, "not a dataset name (or names, separated by commas)")
        return
    for other in names[1:]:
        reading.lose(("dataset",), other, "ftwizard trains on one dataset; the first is imported")
    name = names[0]
    folder, info = _dataset_info(reading)
    reading.consume(("dataset_dir",))
    where = printable(str(folder / DATASET_INFO))
    entry = info.get(name) if info is not None else None
    if entry is None:
        if "/" in name:  # a Hub id, as the exporter names a Hub dataset
            reading.put("dataset.source", name, ("dataset",), said=f"dataset = {shown(name)} (a Hub id)")
        else:
            found = "is not in" if info is not None else "is looked up in"
            reading.lose(("dataset",), name, f"{found} {where}, which is not there; name the data file in ftwizard")
        return
    if not isinstance(entry, dict):
        reading.lose(("dataset",), entry, f"its entry in {where} is not a mapping")
        return
    said = f"dataset = {shown(name)} ({DATASET_INFO} in {printable(str(folder))}"
    if isinstance(entry.get("file_name"), str):
        path = folder / entry["file_name"]
        if not path.exists():
            reading.notes.append(f"{DATASET_INFO}: {shown(entry['file_name'])} is not found in {folder}")
        source = os.path.normpath(path.absolute())
        reading.put("dataset.source", source, ("dataset",), said=f"{said}: file_name = {shown(entry['file_name'])})")
    elif isinstance(entry.get("hf_hub_url"), str):
        reading.put("dataset.source", entry["hf_hub_url"], ("dataset",), said=f"{said}: hf_hub_url)")
        for key, ours in (("subset", "dataset.config_name"), ("split", "dataset.split")):
            if key in entry:
                reading.put(ours, entry[key], ("dataset",), said=f"{DATASET_INFO} {shown(name)}: {key}")
    else:
        reading.lose(("dataset",), name, f"its entry in {where} names no file_name or hf_hub_url")
        return
    _format(reading, entry, stage, name)
    for key, value in entry.items():
        if key not in READ_HERE:
            said_key = f"{DATASET_INFO} {shown(name)}.{key}"
            reading.lose(("dataset",), value, "ftwizard has no such setting", said=said_key)


def _dataset_info(reading: Reading) -> tuple[Path, dict[str, Any] | None]:
    """The folder dataset_info.json is looked for in (dataset_dir, else beside the file, then its data/, where
    LLaMA-Factory looks when run from there) and its entries, or None when there is none."""
    given = reading.data.get("dataset_dir")
    if given is not None and not isinstance(given, str):
        reading.lose(("dataset_dir",), given, "not a folder name")
        given = None
    folders = [reading.folder / given] if given else [reading.folder, reading.folder / "data"]
    for folder in folders:
        if (folder / DATASET_INFO).is_file():
            return folder, _load(folder / DATASET_INFO)
    return folders[0], None


def _load(path: Path) -> dict[str, Any]:
    try:
        if path.stat().st_size > MAX_INFO_BYTES:
            raise UserError(f"{path} is over {MAX_INFO_BYTES >> 20} MiB, far larger than a dataset list", "check it")
        info = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not JSON (line {exc.lineno}: {exc.msg})", "fix it, or set dataset_dir") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read it ({exc})", "check the file") from None
    if not isinstance(info, dict):
        raise UserError(f"{path}: not a JSON object of named datasets", "fix it, or set dataset_dir")
    return info


def _format(reading: Reading, entry: dict[str, Any], stage: str, name: str) -> None:
    """Our format and column renames from the entry's formatting, columns and tags, through FORMATTING."""
    formatting = entry.get("formatting", "alpaca")
    tags = entry.get("tags") if isinstance(entry.get("tags"), dict) else {}
    if stage == "pt":
        candidates = ["text"]
    elif formatting == "sharegpt":
        candidates = ["messages" if tags.get("role_tag") == OPENAI_TAGS["role_tag"] else "sharegpt"]
    else:
        candidates = [fmt for fmt, (lf, _) in FORMATTING.items() if lf == formatting and fmt != "text"]
    label = f"{DATASET_INFO} {shown(name)}"
    if not candidates or formatting not in DEFAULT_COLUMNS:
        reading.lose(("dataset",), formatting, "ftwizard reads alpaca and sharegpt rows", said=f"{label}.formatting")
        return
    columns = entry.get("columns")
    if columns is None:
        columns = dict(FORMATTING[DEFAULT_COLUMNS[formatting]][1])
    if not isinstance(columns, dict):
        reading.lose(("dataset",), columns, "not a mapping of columns", said=f"{label}.columns")
        return

    def score(rank_fmt: tuple[int, str]) -> tuple[int, int, int]:
        rank, fmt = rank_fmt
        ours = FORMATTING[fmt][1]
        return (sum(key in ours for key in columns), sum(ours.get(k) == v for k, v in columns.items()), -rank)

    fmt = max(enumerate(candidates), key=score)[1]
    ours = FORMATTING[fmt][1]
    reading.put("dataset.format", fmt, ("dataset",), said=f"{label}: formatting {formatting}")
    renamed = {theirs: ours[key] for key, theirs in columns.items() if key in ours and ours[key] != theirs}
    if renamed:
        reading.put("dataset.columns", renamed, ("dataset",), said=f"{label}: columns")
    for key, theirs in columns.items():
        if key not in ours:
            why = f"ftwizard's {fmt} rows have no such column"
            reading.lose(("dataset",), theirs, why, said=f"{label}.columns.{key}")
    wanted = MESSAGE_TAGS if fmt == "messages" else {}
    for key, value in tags.items():
        if wanted.get(key) != value:
            why = "ftwizard reads OpenAI roles" if fmt == "messages" else "ftwizard reads ShareGPT's from/value turns"
            reading.lose(("dataset",), value, why, said=f"{label}.tags.{key}")


def _export(config: Any, path: Path, data_format: str | None) -> dict[str, Any]:
    return llamafactory_export(config, path.name, path, data_format)[0].values


TOOL = Tool(
    name="llamafactory",
    label="LLaMA-Factory",
    model_key="model_name_or_path",
    keys=LF_KEYS,
    covers=READER_COVERS | {"dataset.format", "dataset.columns"},
    read=_read,
    export=_export,
)
