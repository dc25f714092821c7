"""Rows from a local file or folder, read lazily, with every bad place named: `read_records` and helpers.

Supported: .jsonl (and .jsonl.gz), .json, .csv, .tsv, .parquet, .txt; a folder reads the supported files
directly inside it, in sorted order. Files are only ever opened for reading. Everything streams, one line
or one Parquet batch at a time, except a .json document, which has to be parsed whole (see read_json).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

from tuiapp.core.data.read_common import ReadOptions, open_binary, permission_denied
from tuiapp.core.data.read_json import read_json
from tuiapp.core.data.read_lines import read_jsonl, read_text
from tuiapp.core.data.read_tables import read_delimited, read_parquet
from tuiapp.core.data.records import DataError, ReadReport, Record
from tuiapp.core.data.shorten import name_list
from tuiapp.core.file_kinds import special_kind
from tuiapp.core.user_error import UserError
from tuiapp.core.user_paths import user_path

PathLike = str | os.PathLike[str]
Reader = Callable[[Path, ReadOptions], Iterator[Record]]

READERS: dict[str, Reader] = {
    ".jsonl": read_jsonl,
    ".jsonl.gz": read_jsonl,
    ".json": read_json,
    ".csv": partial(read_delimited, delimiter=","),
    ".tsv": partial(read_delimited, delimiter="\t"),
    ".parquet": read_parquet,
    ".txt": read_text,
}
SUPPORTED_SUFFIXES = tuple(READERS)
EMPTY_REASONS = {
    ".jsonl": "has only blank lines",
    ".jsonl.gz": "has only blank lines",
    ".json": "holds no records (an empty list or document)",
    ".csv": "has no rows below its header",
    ".tsv": "has no rows below its header",
    ".parquet": "has no rows",
    ".txt": "has only blank lines",
}
CONVERT_HINTS = {
    ".xlsx": "export the sheet as CSV",
    ".xls": "export the sheet as CSV",
    ".ndjson": "rename it to .jsonl",
    ".gz": "decompress it first (gunzip FILE); only .jsonl.gz is read compressed",
}


def file_suffix(path: Path) -> str:
    """The lower-case suffix that picks the reader: `.jsonl.gz` counts as one."""
    name = path.name.lower()
    return ".jsonl.gz" if name.endswith(".jsonl.gz") else path.suffix.lower()


def is_supported(path: PathLike) -> bool:
    """Whether `read_records` can read this file (judged by its name only)."""
    return file_suffix(Path(path)) in READERS


def _supported_list() -> str:
    return ", ".join(SUPPORTED_SUFFIXES)


def _check_supported(path: Path) -> None:
    suffix = file_suffix(path)
    if suffix in READERS:
        return
    if not suffix:
        raise DataError(f"{path} has no extension, so its format is unknown; rename it to end in {_supported_list()}")
    hint = CONVERT_HINTS.get(suffix, "convert it to one of them")
    raise DataError(f"{path}: {suffix} files are not supported; use {_supported_list()} ({hint})")


def _visible(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.iterdir()) if not p.name.startswith(".")]


def _folder_files(folder: Path, report: ReadReport) -> list[Path]:
    children = _visible(folder)
    files = [p for p in children if p.is_file() and is_supported(p)]
    subfolders = []
    for child in (p for p in children if p.is_dir()):
        try:
            subfolders += [f"{child.name}/"] if any(p.is_file() and is_supported(p) for p in _visible(child)) else []
        except OSError:
            continue
    if not files:
        where = f"; its subfolders {name_list(subfolders, 5, '')} hold some: point at one of them" if subfolders else ""
        raise DataError(f"{folder}: no data files directly in this folder (supported: {_supported_list()}){where}")
    ignored = [p.name for p in children if p.is_file() and not is_supported(p)]
    if ignored:
        report.note(f"{folder}: ignored {len(ignored)} file(s) that are not data: {name_list(ignored, 5, '')}")
    special = [p.name for p in children if not p.is_file() and not p.is_dir()]
    if special:
        report.note(
            f"{folder}: left out {len(special)} entries that are not files (pipes, devices, sockets or "
            f"broken links): {name_list(special, 5, '')}"
        )
    hidden = [p.name for p in sorted(folder.iterdir()) if p.name.startswith(".") and p.is_file() and is_supported(p)]
    if hidden:
        report.note(f"{folder}: hidden data files are not read ({name_list(hidden, 5, '')}); rename them to read them")
    if subfolders:
        report.note(f"{folder}: subfolders are not read ({name_list(subfolders, 5, '')})")
    return files


def _file_mode(path: Path) -> int:
    """The mode of what `path` leads to (links followed); DataError if it is missing or not a file or folder."""
    try:
        mode = path.stat().st_mode
    except PermissionError:
        raise permission_denied(path) from None
    except (FileNotFoundError, NotADirectoryError):
        looked = "" if path.is_absolute() else f" (relative to {Path.cwd()})"
        raise DataError(f"{path}: no such file or folder{looked}; check the path") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read it ({exc.strerror or exc}); check the path") from None
    kind = special_kind(mode)
    if kind:  # opening a FIFO waits for a writer forever; a device never ends
        raise DataError(
            f"{path} is {kind}, not a file: datasets are read from regular files or folders; "
            "save the data to a file first (e.g. cat SOURCE > data.jsonl) and give that path"
        )
    return mode


def _source_files(path: Path, report: ReadReport) -> list[Path]:
    try:
        if stat.S_ISDIR(_file_mode(path)):
            return _folder_files(path, report)
    except PermissionError:
        raise permission_denied(path) from None
    _check_supported(path)
    open_binary(path).close()  # fail now, not at the first row, if it cannot be opened
    return [path]


def is_local_source(source: str) -> bool:
    """Whether `source` means a local file or folder: one that exists, a data file's name or a path.

    Anything else is a Hub id, dots included (teknium/OpenHermes-2.5), so a mistyped file name is reported
    as a missing file rather than as a Hub dataset that cannot be found.
    """
    try:
        path = user_path(source)
    except UserError:  # a NUL, ~nobody: a path, and a bad one (reading it says why)
        return True
    return path.exists() or is_supported(path) or source.startswith((".", "/", "~"))


def source_files(path: PathLike) -> list[Path]:
    """The files `read_records(path)` reads, in order; DataError if the path is missing, unreadable or not data."""
    return _source_files(user_path(path), ReadReport())


def _read_file(path: Path, options: ReadOptions, *, in_folder: bool) -> Iterator[Record]:
    skipped_before, rows = options.report.skipped_count, 0
    try:
        empty = path.stat().st_size == 0
    except OSError as exc:
        raise DataError(f"{path}: cannot read it ({exc.strerror or exc}); check the path") from None
    for record in () if empty else READERS[file_suffix(path)](path, options):
        rows += 1
        yield record
    if rows or options.report.skipped_count > skipped_before:
        return
    reason = "is empty (0 bytes)" if empty else EMPTY_REASONS[file_suffix(path)]
    if options.skip_bad:
        options.report.skip(str(path), f"the file {reason}")
        return
    fix = "remove it from the folder or skip it with --skip-bad" if in_folder else "check it is the file you meant"
    raise DataError(f"{path} {reason}: there are no rows to read; {fix}")


def _read_all(files: list[Path], options: ReadOptions, limit: int | None) -> Iterator[Record]:
    count = 0
    if limit is not None and limit <= 0:
        return
    for path in files:
        for record in _read_file(path, options, in_folder=len(files) > 1):
            options.report.rows_read += 1
            count += 1
            yield record
            if count == limit:
                return


def read_records(
    path: PathLike, *, skip_bad: bool = False, limit: int | None = None, report: ReadReport | None = None
) -> Iterator[Record]:
    """Each row of a file or folder as a Record whose `where` names its place (`train.jsonl:12`).

    Path problems (missing, unsupported, unreadable, a folder without data) raise DataError here; bad rows
    raise DataError while iterating, or with `skip_bad` are skipped and counted in `report`.
    """
    report = report if report is not None else ReadReport()
    files = _source_files(user_path(path), report)
    return _read_all(files, ReadOptions(skip_bad, report), limit)


def peek(path: PathLike, rows: int = 5, *, skip_bad: bool = False, report: ReadReport | None = None) -> list[Record]:
    """The first `rows` records, for a preview; reads no further than it needs to (except a .json document)."""
    return list(read_records(path, skip_bad=skip_bad, limit=rows, report=report))


def count_records(path: PathLike, *, skip_bad: bool = False, report: ReadReport | None = None) -> int:
    """How many records a full read yields (it reads every row, so bad rows surface here too)."""
    return sum(1 for _ in read_records(path, skip_bad=skip_bad, report=report))
