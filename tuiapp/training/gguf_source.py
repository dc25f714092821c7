"""Which Hugging Face folder a GGUF is converted from: a full fine-tune's final/ as it is; RUN/merged when it
is whole and newer than the adapter; else the adapter merged (by the merge action's `merge_to_folder`) into a
hidden folder in the run that is removed after the conversion. When llama.cpp refuses the model, that merge
is kept as RUN/merged, so the user can convert it with another llama.cpp without merging again.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from tuiapp.core.gguf_plan import merged_is_current
from tuiapp.core.tokenizer_files import bos_unsaid
from tuiapp.core.user_error import UserError
from tuiapp.training.gguf_tools import ToolFailed

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig
    from tuiapp.core.runs.layout import RunPaths
    from tuiapp.training.action_runner import ActionOutcome, ActionReport

SourceKind = Literal["full", "reused", "merged"]


@dataclass(frozen=True)
class ConversionSource:
    """The folder to convert, how it came to be, and (when merged for this export) the merge's outcome."""

    folder: Path
    kind: SourceKind
    merge: ActionOutcome | None = None
    notes: list[str] = field(default_factory=list)


def is_full_finetune(paths: RunPaths, config: FTConfig) -> bool:
    """A full fine-tune leaves the whole model in final/ (config.json, no adapter_config.json)."""
    final = paths.final
    return config.method == "full" or (
        (final / "config.json").is_file() and not (final / "adapter_config.json").is_file()
    )


@contextmanager
def conversion_source(
    paths: RunPaths, config: FTConfig, dtype: str, report: ActionReport
) -> Iterator[ConversionSource]:
    """Yield the folder to convert; a merge made for it is removed afterwards (kept as RUN/merged on a refusal)."""
    if is_full_finetune(paths, config):
        if not (paths.final / "config.json").is_file():
            raise UserError(
                f"run {paths.name} has no model in {paths.final} yet: it has not finished",
                fix=f"let it finish, or continue it with `ftwizard resume {paths.name}`",
            )
        yield ConversionSource(paths.final, "full", notes=[f"converted the full fine-tune in {paths.final}"])
        return
    if merged_is_current(paths.merged, paths.final):
        report.phase("reusing the merged model")
        yield ConversionSource(paths.merged, "reused", notes=[f"converted the merged model already in {paths.merged}"])
        return
    from tuiapp.training.merge_action import merge_to_folder

    scratch = Path(tempfile.mkdtemp(prefix=".gguf-merge-", dir=paths.root))
    target = scratch / "merged"
    try:
        outcome = merge_to_folder(paths, target, dtype, "auto", report, final_output=False)
        merged = f"merged the adapter into its base ({dtype}) for this export and removed that merge afterwards"
        notes = [*outcome.notes, f"{merged} (`ftwizard merge {paths.name}` keeps one in {paths.merged})"]
        try:
            yield ConversionSource(target, "merged", outcome, notes)
        except ToolFailed as failure:
            _keep(target, paths.merged)
            kept = f"the merged model is kept in {paths.merged}: convert it there once llama.cpp supports it"
            raise ToolFailed(failure.what, f"{failure.fix}; {kept}" if failure.fix else kept, failure.output) from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _keep(merged: Path, destination: Path) -> None:
    """Move a finished merge to `destination` (replacing a stale one there only once the move can happen)."""
    if destination.exists():
        aside = destination.with_name(f".{destination.name}.old-gguf")
        shutil.rmtree(aside, ignore_errors=True)
        destination.rename(aside)
        merged.rename(destination)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        merged.rename(destination)


@contextmanager
def bos_said(folder: Path, scratch_parent: Path) -> Iterator[Path]:
    """`folder`, or, when its tokenizer adds no BOS without saying so, a temporary view of it (links to its
    files) whose tokenizer_config.json says add_bos_token: false, so the GGUF tokenizes prompts as training did."""
    if not bos_unsaid(folder):
        yield folder
        return
    import json

    view = Path(tempfile.mkdtemp(prefix=".gguf-source-", dir=scratch_parent))
    try:
        for entry in folder.iterdir():
            if entry.name != "tokenizer_config.json":
                (view / entry.name).symlink_to(entry.resolve())
        config_file = folder / "tokenizer_config.json"
        config = json.loads(config_file.read_text(encoding="utf-8")) if config_file.is_file() else {}
        (view / "tokenizer_config.json").write_text(json.dumps({**config, "add_bos_token": False}), encoding="utf-8")
        yield view
    finally:
        shutil.rmtree(view, ignore_errors=True)
