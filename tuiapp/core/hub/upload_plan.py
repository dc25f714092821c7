"""Which files a push sends, read from the folder being published (the adapter, the merged model or the GGUF):
every file but the ones that are ours to write (README.md), the trainer's pickled arguments, and hidden or
half-written ones; JSON files that name this machine's paths are sent with those paths made names instead
(the files on disk stay as they are)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuiapp.core.hub.public_config import local_name
from tuiapp.core.user_error import UserError

SKIPPED = frozenset({"README.md", "training_args.bin"})  # our card replaces the first; the second is a pickle
PATH_KEYS = frozenset({"base_model_name_or_path", "_name_or_path", "name_or_path"})
MAX_FILES = 2000
MAX_REWRITE_BYTES = 8_000_000  # JSON files larger than this (tokenizer vocabularies) are sent unread


@dataclass(frozen=True)
class UploadFile:
    """One file of the commit: a file on disk sent as it is, or bytes made here."""

    path_in_repo: str
    source: Path | None = None
    data: bytes | None = None

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else (self.source.stat().st_size if self.source else 0)


@dataclass(frozen=True)
class FolderUpload:
    """The files of the published folder, and a sentence per file sent changed."""

    files: list[UploadFile]
    changes: list[str]


def folder_upload(folder: Path, private_prefixes: list[str], base_public: str) -> FolderUpload:
    """The files under `folder` to send. `private_prefixes` are paths that must not leave this machine (home,
    the run, the base model's folder); `base_public` is what an adapter's local base path becomes (the base's
    Hub id, or its folder's name)."""
    found = sorted(p for p in folder.rglob("*") if p.is_file() and _kept(p.relative_to(folder)))
    if len(found) > MAX_FILES:
        raise UserError(f"{folder} holds {len(found)} files, more than a push sends ({MAX_FILES})", "remove extras")
    files: list[UploadFile] = []
    changes: list[str] = []
    for path in found:
        name = path.relative_to(folder).as_posix()
        data = _rewritten(path, folder, private_prefixes, base_public)
        if data is None:
            files.append(UploadFile(name, source=path))
        else:
            files.append(UploadFile(name, data=data))
            changes.append(f"{name}: local paths written as names")
    return FolderUpload(files, changes)


def _kept(relative: Path) -> bool:
    if any(part.startswith(".") for part in relative.parts) or relative.name.endswith(".partial"):
        return False
    return not (len(relative.parts) == 1 and relative.name in SKIPPED)


def _rewritten(path: Path, folder: Path, private_prefixes: list[str], base_public: str) -> bytes | None:
    """The file's new bytes when it names a private path (JSON values, a Modelfile's FROM), else None."""
    if path.name == "Modelfile" and path.stat().st_size < MAX_REWRITE_BYTES:
        text = path.read_text(encoding="utf-8", errors="replace")
        fixed = text.replace(f"{folder.resolve()}/", "./").replace(f"{folder}/", "./")
        return fixed.encode("utf-8") if fixed != text else None
    if path.suffix != ".json" or path.stat().st_size > MAX_REWRITE_BYTES:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    fixed, changed = _walk(data, None, private_prefixes, base_public)
    if not changed:
        return None
    return (json.dumps(fixed, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _walk(value: Any, key: str | None, prefixes: list[str], base: str) -> tuple[Any, bool]:
    if isinstance(value, dict):
        pairs = [(k, _walk(v, k, prefixes, base)) for k, v in value.items()]
        return {k: v for k, (v, _) in pairs}, any(changed for _, (_, changed) in pairs)
    if isinstance(value, list):
        items = [_walk(v, None, prefixes, base) for v in value]
        return [v for v, _ in items], any(changed for _, changed in items)
    if isinstance(value, str) and _is_private(value, key, prefixes):
        return (base if key == "base_model_name_or_path" else local_name(value)), True
    return value, False


def _is_private(value: str, key: str | None, prefixes: list[str]) -> bool:
    windows = len(value) > 2 and value[1:3] in (":\\", ":/")
    if key in PATH_KEYS and (value.startswith(("/", "~", "\\")) or windows):
        return True
    return any(value == p or value.startswith(p.rstrip("/") + "/") for p in prefixes if p not in ("", "/"))
