"""What a push commits, built on this machine before anything is sent: the published folder's files (local
paths made names), the generated model card, the loss curve PNG and the run's config made public. The files
on disk are read, never changed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tuiapp.core.config import load_config
from tuiapp.core.hub.base_model import base_license, hub_id_of, is_local_path
from tuiapp.core.hub.card_facts import (
    CardFacts,
    PushKind,
    has_chat_template,
    latest_done,
    pushed_merged_repo,
    training_figures,
)
from tuiapp.core.hub.model_card import render_model_card
from tuiapp.core.hub.public_config import local_name, public_config, public_record, refuse_token_like
from tuiapp.core.hub.upload_plan import UploadFile, folder_upload
from tuiapp.core.runs.follow import read_events
from tuiapp.core.user_error import UserError
from tuiapp.training.loss_plot import loss_curve_png

if TYPE_CHECKING:
    from tuiapp.core.runs.layout import RunPaths

CARD, CURVE, CONFIG = "README.md", "loss_curve.png", "config.yaml"
MAX_SCANNED_BYTES = 64_000_000  # files up to this size are searched for the token before they are sent


@dataclass(frozen=True)
class PushContents:
    """The commit's files, the card's facts, and what was changed on the way out (for the outcome's notes)."""

    files: list[UploadFile]
    facts: CardFacts
    changes: list[str]

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


def published_folder(paths: RunPaths, what: str, method: str) -> tuple[Path, PushKind]:
    """The folder a push of `what` sends, and what it holds; a UserError saying which command makes it."""
    name = paths.name
    if what == "adapter":
        adapter = (paths.final / "adapter_config.json").is_file()
        if adapter or (paths.final / "config.json").is_file():
            return paths.final, "adapter" if adapter else "full"
        raise UserError(
            f"{paths.final} holds no trained adapter or model: the run has not finished",
            f"`ftwizard runs` shows its state; continue it with `ftwizard resume {name}`",
        )
    if method == "full":
        raise UserError(
            f"{name} is a full fine-tune: its final/ is already the whole model, there is nothing to merge",
            f"push it without --merged: `ftwizard push {name} --repo NAME`",
        )
    events = read_events(paths.events)
    if what == "merged":
        folder = paths.merged if (paths.merged / "config.json").is_file() else _recorded(events, "merge", "config.json")
        if folder is None:
            raise UserError(
                f"{name} has no merged model ({paths.merged} is missing)", f"run `ftwizard merge {name}` first"
            )
        return folder, "merged"
    folder = paths.gguf if any(paths.gguf.glob("*.gguf")) else _recorded(events, "gguf", "*.gguf")
    if folder is None:
        raise UserError(f"{name} has no GGUF file ({paths.gguf} is missing)", f"run `ftwizard gguf {name}` first")
    return folder, "gguf"


def _recorded(events: list, action: str, marker: str) -> Path | None:
    """The folder the last finished `action` wrote elsewhere (its `-o DIR`), when it still holds `marker`."""
    record = latest_done(events, action)
    for output in record.outputs if record else []:
        path = Path(output)
        folder = path.parent if path.is_file() else path
        if folder.is_dir() and any(folder.glob(marker)):
            return folder
    return None


def push_contents(
    paths: RunPaths, folder: Path, kind: PushKind, repo_id: str, endpoint: str | None, token: str
) -> PushContents:
    """Everything the commit holds, checked for the token and for anything shaped like one."""
    config = load_config(paths.config)
    events = read_events(paths.events)
    public = public_config(config, repo_id)
    base_path = config.model.name_or_path
    base_id = hub_id_of(base_path)
    base_label = base_id or (local_name(base_path) if is_local_path(base_path) else base_path)
    private = [str(Path.home()), str(paths.root), str(paths.root.resolve())]
    if is_local_path(base_path):
        private.append(base_path)
    upload = folder_upload(folder, private, base_id or base_label)
    record = latest_done(events, "gguf" if kind == "gguf" else "merge") if kind in ("merged", "gguf") else None
    curve = loss_curve_png(events, f"{repo_id.split('/')[-1]}: loss by step")
    dataset = config.dataset.source if config.dataset is not None else None
    action_facts, action_notes = public_record(dict(record.facts), list(record.notes)) if record else ({}, [])
    facts = CardFacts(
        repo_id=repo_id,
        kind=kind,
        config=public.config,
        config_yaml=public.yaml_text,
        config_changes=public.changes,
        base_model=base_id,
        base_label=base_label,
        license=base_license(base_path, config.model.revision),
        dataset_id=dataset if dataset and not is_local_path(dataset) else None,
        figures=training_figures(events),
        action_facts=action_facts,
        action_notes=action_notes,
        files=[f.path_in_repo for f in upload.files],
        has_chat_template=has_chat_template(folder),
        loss_curve=CURVE if curve else None,
        endpoint=endpoint,
        quantized_from=pushed_merged_repo(events, endpoint) if kind == "gguf" else None,
    )
    card = render_model_card(facts).encode("utf-8")
    ours = [UploadFile(CARD, data=card), UploadFile(CONFIG, data=public.yaml_text.encode("utf-8"))]
    if curve:
        ours.append(UploadFile(CURVE, data=curve))
    taken = {f.path_in_repo for f in ours}
    files = [f for f in upload.files if f.path_in_repo not in taken] + ours
    for item in files:
        _check_for_token(item, token)
    return PushContents(files, facts, public.changes + upload.changes)


def _check_for_token(item: UploadFile, token: str) -> None:
    if item.data is not None:
        refuse_token_like(item.data, item.path_in_repo, token)
    elif item.source is not None and item.size <= MAX_SCANNED_BYTES:
        data = item.source.read_bytes()
        if token.encode("utf-8") in data or item.source.suffix in (".json", ".jinja", ".txt", ".yaml", ""):
            refuse_token_like(data, str(item.source), token)
