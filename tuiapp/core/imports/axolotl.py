"""An Axolotl config read into ours: its keys through the exporter's tables (tuiapp/core/export/axolotl.py), and
here the model, the task and the first dataset entry, whose `type` and field names are matched against the
entries the exporter writes for each of our formats (so the column renames come back as they went out)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tuiapp.core.config.errors import dotted
from tuiapp.core.export.axolotl import AXOLOTL_KEYS, SUFFIX_TYPES, axolotl_export, dataset_entry
from tuiapp.core.imports.reading import MISSING, READER_COVERS, Loc, Reading, Tool, printable, shown

FORMATS = ("messages", "sharegpt", "alpaca", "prompt_completion", "text")
COLUMNS = ("messages", "conversations", "instruction", "input", "output", "prompt", "completion", "text")
HOLE = "\0"  # marks our column name where an entry names the file's column


def _templates() -> list[tuple[str, dict[str, Any]]]:
    """Each format's entry as the exporter writes it, our column names marked (alpaca also without renames)."""
    holes = {column: HOLE + column for column in COLUMNS}
    return [(fmt, dataset_entry(fmt, holes)) for fmt in FORMATS] + [("alpaca", dataset_entry("alpaca", {}))]


def _match(template: Any, actual: Any, columns: dict[str, str]) -> bool:
    """Whether `actual` is `template` with the file's column names in the marked places (collected)."""
    if isinstance(template, str) and template.startswith(HOLE):
        if isinstance(actual, str):
            columns[template[1:]] = actual
            return True
        return False
    if isinstance(template, dict):
        if not isinstance(actual, dict) or set(actual) != set(template):
            return False
        return all(_match(want, actual[key], columns) for key, want in template.items())
    return template == actual


def entry_format(entry: dict[str, Any]) -> tuple[str, dict[str, str], set[str]] | None:
    """(our format, our column -> the file's column, the entry keys that said so) for an entry whose type is
    one the exporter writes; the template matching most keys wins. A marked key the entry lacks is our name."""
    best: tuple[tuple[int, int], str, dict[str, str], set[str]] | None = None
    for rank, (fmt, template) in enumerate(_templates()):
        columns: dict[str, str] = {}
        if not _match(template["type"], entry.get("type", MISSING), columns):
            continue
        matched = {"type"}
        for key, want in template.items():
            if key != "type" and key in entry and _match(want, entry[key], columns):
                matched.add(key)
        score = (len(matched), -rank)
        if best is None or score > best[0]:
            best = (score, fmt, columns, matched)
    return None if best is None else best[1:]


def _read(reading: Reading) -> None:
    model = reading.data["base_model"]
    reading.put("model.name_or_path", model if not isinstance(model, str) else _model(reading, model), ("base_model",))
    if reading.data.get("rl"):
        reading.refuse(("rl",), "ftwizard imports supervised fine-tuning (sft) for now", "remove rl to import as sft")
    if "datasets" in reading.data:
        _datasets(reading)


def _model(reading: Reading, model: str) -> str:
    from tuiapp.core.export.export_result import from_export

    return from_export(model, reading.source)


def _datasets(reading: Reading) -> None:
    entry = reading.first_entry("datasets", "path, type, …")
    if entry is not None:
        _entry(reading, entry, ("datasets", 0))


def _entry(reading: Reading, entry: dict[str, Any], at: Loc) -> None:
    from tuiapp.core.data.sources import file_suffix, is_local_source

    path = entry.get("path")
    if not isinstance(path, str) or not path.strip():
        reading.lose(at, entry, "no path: name the data file or Hub dataset in the config")
        return
    local = "ds_type" in entry or (reading.folder / path).exists() or is_local_source(path)
    source = reading.local_path(path, (*at, "path")) if local else path
    reading.put("dataset.source", source, (*at, "path"))
    read = {"path"}
    if local and "ds_type" in entry:
        read.add("ds_type")
        expected = SUFFIX_TYPES.get(file_suffix(Path(source)))
        if entry["ds_type"] == expected:
            reading.agree((*at, "ds_type"), entry["ds_type"])
        else:
            reading.lose((*at, "ds_type"), entry["ds_type"], f"ftwizard reads the file by its suffix ({expected})")
    if not local:
        for key, ours in (("split", "dataset.split"), ("name", "dataset.config_name")):
            if key in entry:
                read.add(key)
                reading.put(ours, entry[key], (*at, key))
    elif entry.get("split") == "train":  # a local file's one split
        read.add("split")
        reading.agree((*at, "split"), "train")
    found = entry_format(entry)
    if found is not None:
        fmt, columns, matched = found
        read |= matched
        reading.put("dataset.format", fmt, (*at, "type"))
        renamed = {theirs: ours for ours, theirs in columns.items() if theirs != ours}
        if renamed:
            field = next((key for key in ("field_messages", "field") if key in entry), "type")
            names = ", ".join(f"{shown(theirs)} for {ours}" for theirs, ours in renamed.items())
            reading.put("dataset.columns", renamed, (*at, field), said=f"{printable(dotted(at))} columns {names}")
        for key in matched - {"type"}:
            if key not in ("field_messages", "field") or not renamed:
                reading.agree((*at, key), entry[key])
    reading.lose_unread(entry, at, read)


def _export(config: Any, path: Path, data_format: str | None) -> dict[str, Any]:
    return axolotl_export(config, path.name, path, data_format).values


TOOL = Tool(
    name="axolotl",
    label="Axolotl",
    model_key="base_model",
    keys=AXOLOTL_KEYS,
    covers=READER_COVERS | {"dataset.format", "dataset.columns"},
    read=_read,
    export=_export,
)
