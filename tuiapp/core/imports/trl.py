"""A config for TRL's CLI (`trl sft --config FILE`) read into ours: its keys through the exporter's tables
(tuiapp/core/export/trl_cli.py), and here the model and the first `datasets:` entry (a local file through the
exporter's BUILDERS, a folder, or a Hub id). TRL's SFT has no format setting: rows are detected as ours are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tuiapp.core.export.trl_cli import BUILDERS, TRL_KEYS, trl_export
from tuiapp.core.imports.reading import READER_COVERS, Loc, Reading, Tool


def _read(reading: Reading) -> None:
    from tuiapp.core.export.export_result import from_export

    model = reading.data["model_name_or_path"]
    loc = ("model_name_or_path",)
    reading.put("model.name_or_path", from_export(model, reading.source) if isinstance(model, str) else model, loc)
    if "datasets" in reading.data and (entry := reading.first_entry("datasets", "path, data_files, split")):
        _entry(reading, entry, ("datasets", 0))


def _entry(reading: Reading, entry: dict[str, Any], at: Loc) -> None:
    from tuiapp.core.data.sources import is_local_source

    path, files = entry.get("path"), entry.get("data_files")
    if isinstance(files, list) and files and all(isinstance(name, str) for name in files):
        for index, other in enumerate(files[1:], start=1):
            reading.lose((*at, "data_files", index), other, "ftwizard reads one file (or a folder of them)")
        files = files[0]
    if path in set(BUILDERS.values()) and isinstance(files, str):  # a local file through its builder
        reading.put("dataset.source", reading.local_path(files, (*at, "data_files")), (*at, "data_files"))
        read = {"path", "data_files"}
        local = True
    elif isinstance(path, str) and path and ((reading.folder / path).exists() or is_local_source(path)):
        reading.put("dataset.source", reading.local_path(path, (*at, "path")), (*at, "path"))
        read, local = {"path"}, True
    elif isinstance(path, str) and path:
        reading.put("dataset.source", path, (*at, "path"))
        read, local = {"path"}, False
        if "name" in entry:
            read.add("name")
            reading.put("dataset.config_name", entry["name"], (*at, "name"))
    else:
        reading.lose(at, entry, "no path: name the data file or Hub dataset in the config")
        return
    if "split" in entry:
        read.add("split")
        if not local:
            reading.put("dataset.split", entry["split"], (*at, "split"))
        elif entry["split"] == "train":  # a local file's one split
            reading.agree((*at, "split"), "train")
        else:
            reading.lose((*at, "split"), entry["split"], "a local file has one split, train")
    reading.lose_unread(entry, at, read)


def _export(config: Any, path: Path, data_format: str | None) -> dict[str, Any]:
    return trl_export(config, path.name, path, data_format).values


TOOL = Tool(
    name="trl",
    label="TRL's CLI",
    model_key="model_name_or_path",
    keys=TRL_KEYS,
    covers=READER_COVERS,
    read=_read,
    export=_export,
)
