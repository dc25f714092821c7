"""Read another tool's YAML config as safely as our own (a regular file of at most 1 MB, plain YAML values, no
aliases or python tags), and tell from its keys which tool wrote it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tuiapp.core.config.yaml_reader import KeyLines, parse_config_yaml, read_config_text
from tuiapp.core.imports import TOOLS
from tuiapp.core.user_error import UserError

# What each tool's config has that tells it apart (checked in this order: LLaMA-Factory's files also carry the
# training-argument names a TRL file has).
SIGNS = {
    "axolotl": "base_model with datasets, adapter, micro_batch_size or sequence_len",
    "llamafactory": "model_name_or_path with stage or finetuning_type",
    "trl": "model_name_or_path with per_device_train_batch_size, dataset_name or datasets",
}


def read_foreign(path: Path) -> tuple[dict[str, Any], KeyLines]:
    """The file's settings and each key's line; a UserError (ConfigError) names the file and what is wrong."""
    text = read_config_text(path)  # missing, unreadable, not a regular file, over 1 MB, not UTF-8
    parsed = parse_config_yaml(text, str(path))  # not YAML, anchors, tags, duplicate keys: at their line
    if parsed.data is None:
        raise UserError(f"{path}: the file is empty", "give the Axolotl, LLaMA-Factory or TRL config to import")
    if not isinstance(parsed.data, dict):
        kind = "a list" if isinstance(parsed.data, list) else f"one value ({type(parsed.data).__name__})"
        raise UserError(
            f"{path}: the file holds {kind}, not a mapping of settings", "give a tool's config (key: value lines)"
        )
    return parsed.data, parsed.lines


def detect_tool(data: dict[str, Any], path: Path) -> str:
    """The tool `data` is a config for, from its keys; a UserError when none fits."""
    keys = set(data)
    if "base_model" in keys and (keys & {"adapter", "micro_batch_size", "sequence_len"} or _axolotl_datasets(data)):
        return "axolotl"
    if "model_name_or_path" in keys and keys & {"stage", "finetuning_type"}:
        return "llamafactory"
    if "model_name_or_path" in keys and keys & {"per_device_train_batch_size", "dataset_name", "datasets"}:
        return "trl"
    if isinstance(data.get("model"), dict) and "name_or_path" in data["model"]:
        raise UserError(f"{path} is an ftwizard config already", f"check it with `ftwizard check {path}`")
    signs = "; ".join(f"{TOOLS[name]}: {sign}" for name, sign in SIGNS.items())
    raise UserError(
        f"{path}: not a config of a tool ftwizard imports ({signs})",
        f"name the tool with --from {'|'.join(TOOLS)} if it is one of them",
    )


def require_model(data: dict[str, Any], path: Path, name: str, model_key: str) -> None:
    if model_key not in data:
        raise UserError(
            f"{path}: {model_key} is missing, and {TOOLS[name]} reads the model from it",
            "add it, or check that --from names the right tool",
        )


def _axolotl_datasets(data: dict[str, Any]) -> bool:
    entries = data.get("datasets")
    return isinstance(entries, list) and any(isinstance(e, dict) and {"path", "type"} & set(e) for e in entries)
