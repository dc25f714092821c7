"""The run's config made fit to publish: what `ftwizard train config.yaml` needs to train the same thing again,
without this machine's layout (local paths become names, the runs folder is dropped) and without secrets
(a value that looks like a Hugging Face token stops the push)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath
from typing import Any

from tuiapp.core.config.root import FTConfig
from tuiapp.core.hub.base_model import hub_id_of, is_local_path
from tuiapp.core.user_error import UserError

TOKEN_LIKE = re.compile(rb"hf_[A-Za-z0-9]{30,}")  # the shape of a Hugging Face user access token
_LOCAL_PATH = re.compile(r"(?:^|[\s(\[='\"`])(?:/|~/|[A-Za-z]:[\\/])[^\s]")


@dataclass(frozen=True)
class PublicConfig:
    """The config to publish, its YAML, and one sentence per value changed from the run's own."""

    config: FTConfig
    yaml_text: str
    changes: list[str]


def local_name(path: str) -> str:
    """A local path's last part (a folder or file name), which says what it was without where it lived."""
    cleaned = path.rstrip("/\\")
    return PureWindowsPath(cleaned).name if "\\" in cleaned else Path(cleaned).name or "model"


def public_config(config: FTConfig, repo_id: str) -> PublicConfig:
    """`config` with local paths replaced by names (or the Hub id a cache folder stands for), no runs folder,
    and the Hub destination set to `repo_id`."""
    from tuiapp.core.config.yaml_io import dump_config, with_changes

    changes: dict[str, object] = {"output.runs_root": None, "output.hub_repo": repo_id}
    said: list[str] = []
    model = config.model.name_or_path
    if is_local_path(model):
        hub_id = hub_id_of(model)
        changes["model.name_or_path"] = hub_id or local_name(model)
        said.append(
            f"model.name_or_path is {hub_id}, the Hub model the run's cached copy came from"
            if hub_id
            else f"model.name_or_path was a local folder: set it to your copy of {local_name(model)}"
        )
    if config.dataset is not None and is_local_path(config.dataset.source):
        changes["dataset.source"] = local_name(config.dataset.source)
        said.append(f"dataset.source was a local file: put {local_name(config.dataset.source)} beside config.yaml")
    if config.output.runs_root is not None:
        said.append("output.runs_root is left empty: runs go to the default folder on your machine")
    public = with_changes(config, changes)
    text = dump_config(public)
    refuse_token_like(text.encode("utf-8"), "the run's config.yaml")
    return PublicConfig(public, text, said)


def mentions_local_path(text: str) -> bool:
    """Whether `text` names a path on this machine (`/home/...`, `~/...`, `C:\\...`): such a fact or note is about
    the files here, not something a card should repeat."""
    return bool(_LOCAL_PATH.search(text))


def public_record(facts: dict[str, Any], notes: list[str]) -> tuple[dict[str, Any], list[str]]:
    """An action's facts and notes without the ones that name local paths (a tool's location, a local command)."""
    kept = {k: v for k, v in facts.items() if not (isinstance(v, str) and mentions_local_path(v))}
    return kept, [note for note in notes if not mentions_local_path(note)]


def refuse_token_like(data: bytes, where: str, token: str | None = None) -> None:
    """A UserError when `data` holds `token` or anything shaped like a Hugging Face token (never shown)."""
    found = TOKEN_LIKE.search(data)
    if token and token.encode("utf-8") in data:
        found_at = data.index(token.encode("utf-8"))
    elif found is not None:
        found_at = found.start()
    else:
        return
    line = data.count(b"\n", 0, found_at) + 1
    raise UserError(
        f"{where} holds what looks like a Hugging Face token (line {line}); nothing was uploaded",
        "remove it from that file and push again: tokens belong in HF_TOKEN or `hf auth login`, never in files",
    )
