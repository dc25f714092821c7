"""Turn what the user typed (a folder, a Hub id, a catalogue alias) into a ModelShape, reading the
cheapest source first: a local folder, the Hugging Face cache, the offline catalogue, then the Hub
(config.json only, never weights). huggingface_hub is imported inside functions: it is slow to import.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict

from tuiapp.core.models.catalog import CatalogEntry, find_in_catalog, model_catalog
from tuiapp.core.models.config_file import ConfigFileError, read_config_json
from tuiapp.core.models.families import UnsupportedModelError
from tuiapp.core.models.hub_reach import hub_unreachable_reason
from tuiapp.core.models.local_cache import hub_cache_dir
from tuiapp.core.models.shape import ModelShape
from tuiapp.core.models.stored_quant import read_stored_quantization
from tuiapp.core.user_error import UserError
from tuiapp.core.user_paths import user_path

Source = Literal["local", "cache", "catalogue", "hub"]
_TRUE = {"1", "ON", "YES", "TRUE"}


class ModelResolveError(UserError):
    """A model that cannot be read: the message says what happened and what to do."""


class ResolvedModel(BaseModel):
    """A model's shape plus what the wizard shows beside it, and where it came from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    shape: ModelShape
    source: Source
    license: str | None = None
    """The Hub's license tag when known (catalogue or model card), else None."""
    gated: bool | None = None
    """True when downloading needs accepted terms and a token; None when unknown."""
    context_length: int
    """The longest sequence the model was trained for (max_position_embeddings)."""
    hf_config: dict[str, Any]
    """The config.json fields read, for the exact (meta/CPU) memory simulation."""
    notes: tuple[str, ...] = ()

    @classmethod
    def from_catalog(cls, entry: CatalogEntry, notes: tuple[str, ...] = ()) -> ResolvedModel:
        """A catalogue entry, sized without any file or network."""
        shape = ModelShape.from_hf_config(entry.config, name=entry.name)
        return cls(
            shape=shape,
            source="catalogue",
            license=entry.license,
            gated=entry.gated,
            context_length=shape.max_position_embeddings,
            hf_config=dict(entry.config),
            notes=(*_shape_notes(entry.config), *entry.notes, *notes),
        )


def resolve_model(name_or_path: str, revision: str | None = None, token: str | None = None) -> ResolvedModel:
    """Size a model from a local folder, the HF cache, the catalogue or the Hub, in that order."""
    query = name_or_path.strip()
    if not query:
        raise ModelResolveError(
            "give a model: a Hugging Face id (Qwen/Qwen2.5-7B-Instruct), a local folder, or a catalogue name"
        )
    path = _typed_path(query)
    if _is_model_path(path):
        return _from_folder(path)
    check_not_missing_folder(query)
    entry = find_in_catalog(query)
    repo_id = entry.name if entry else query
    _check_repo_id(repo_id)
    cached = _cached_file(repo_id, "config.json", revision)
    if cached is not None:
        return _from_file(Path(cached), repo_id, "cache", entry, _cached_file(repo_id, "README.md", revision))
    if entry is not None:
        note = (f"revision {revision} was not checked: these are the default branch's numbers",) if revision else ()
        return ResolvedModel.from_catalog(entry, notes=note)
    return _from_file(_download_config(repo_id, revision, token), repo_id, "hub", None, None)


def _typed_path(query: str) -> Path:
    """The reference as a path; one pathlib cannot take (`~nosuchuser`, a NUL) is a ModelResolveError."""
    try:
        return user_path(query)
    except UserError as exc:
        raise ModelResolveError(str(exc)) from None


def check_not_missing_folder(query: str) -> None:
    """Refuse a reference written as a path (./, /, ~, or two slashes) when no such folder exists."""
    if _is_model_path(_typed_path(query)):
        return
    if query.startswith((".", "/", "~")) or query.count("/") > 1:
        raise ModelResolveError(
            f"{_shown(query)}: no such folder. Give the folder that holds the model's config.json "
            "(the one save_pretrained wrote), or a Hugging Face id such as Qwen/Qwen2.5-7B-Instruct"
        )


def _is_model_path(path: Path) -> bool:
    """A folder, or a config.json itself; False for what the file system cannot even look up (a name past
    its length limit, a NUL byte): such a reference is then read as an id and refused as one."""
    try:
        return path.is_dir() or (path.is_file() and path.name == "config.json")
    except (OSError, ValueError):
        return False


def _shown(reference: str, limit: int = 120) -> str:
    """A reference as messages quote it: cut after `limit` characters, saying how long it was."""
    return reference if len(reference) <= limit else f"{reference[:limit]}… ({len(reference):,} characters)"


def _from_folder(path: Path) -> ResolvedModel:
    folder = path if path.is_dir() else path.parent
    config = folder / "config.json"
    if not config.is_file():
        gguf = any(folder.glob("*.gguf"))
        hint = " (a GGUF file is for inference engines; fine-tuning needs the safetensors repo)" if gguf else ""
        raise ModelResolveError(
            f"{folder} has no config.json{hint}: give the folder save_pretrained wrote, or the model's Hugging Face id"
        )
    readme = folder / "README.md"
    return _from_file(config, str(folder.resolve()), "local", None, str(readme) if readme.is_file() else None)


def _from_file(
    config_path: Path, name: str, source: Source, entry: CatalogEntry | None, readme: str | None
) -> ResolvedModel:
    try:
        config = read_config_json(config_path)
    except ConfigFileError as exc:
        raise ModelResolveError(str(exc)) from None
    try:
        shape = ModelShape.from_hf_config(config, name=name)
    except UnsupportedModelError as exc:
        raise ModelResolveError(f"{name} ({config_path}): {exc}") from exc
    license_tag = entry.license if entry else _card_license(readme)
    gated = entry.gated if entry else (False if source == "local" else None)
    return ResolvedModel(
        shape=shape,
        source=source,
        license=license_tag,
        gated=gated,
        context_length=shape.max_position_embeddings,
        hf_config=config,
        notes=_shape_notes(config),
    )


def _shape_notes(config: dict[str, Any]) -> tuple[str, ...]:
    notes: list[str] = []
    if isinstance(config.get("text_config"), dict):
        notes.append("multimodal model: sizes cover its language model only, not the vision encoder")
    stored = read_stored_quantization(config)
    if stored is not None:
        notes.append(
            f"stored already quantized ({stored.description}): its weights load as stored, so adapters train "
            "on top of them and full fine-tuning is not possible"
        )
    return tuple(notes)


def _card_license(readme: str | None) -> str | None:
    """The `license:` of a model card's YAML front matter, if there is one."""
    if readme is None:
        return None
    try:
        text = Path(readme).read_text(encoding="utf-8")
        if not text.startswith("---"):
            return None
        meta = yaml.safe_load(text.split("---", 2)[1])
    except (OSError, UnicodeDecodeError, IndexError, yaml.YAMLError):
        return None
    value = meta.get("license") if isinstance(meta, dict) else None
    return str(value) if value else None


def _offline() -> bool:
    from huggingface_hub import constants

    env = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return env.upper() in _TRUE or constants.HF_HUB_OFFLINE


def _check_repo_id(repo_id: str) -> None:
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        raise ModelResolveError(
            f"{_shown(repo_id)!r} is not a folder, a catalogue name or a Hugging Face id (owner/name, letters, "
            f"digits, '-', '_' and '.').{_suggest(repo_id)}"
        ) from exc


def _cached_file(repo_id: str, filename: str, revision: str | None) -> str | None:
    """The file's path in the Hugging Face cache, without touching the network; None if absent."""
    import huggingface_hub

    # The cache folder read now, not when huggingface_hub was imported: the same one the Model screen lists.
    found = huggingface_hub.try_to_load_from_cache(repo_id, filename, cache_dir=hub_cache_dir(), revision=revision)
    return found if isinstance(found, str) else None


def _suggest(query: str) -> str:
    names = [entry.name for entry in model_catalog()]
    by_key = {name.lower(): name for name in names} | {n.split("/")[1].lower(): n for n in names}
    close = difflib.get_close_matches(query.lower(), list(by_key), n=3, cutoff=0.6)
    found = list(dict.fromkeys(by_key[key] for key in close))
    return f" Did you mean {', '.join(found)}?" if found else ""


def _download_config(repo_id: str, revision: str | None, token: str | None) -> Path:
    """config.json from the Hub (a few KB; weights are never fetched), or why it cannot be had."""
    import httpx
    import huggingface_hub
    from huggingface_hub import errors

    page = f"https://huggingface.co/{repo_id}"
    if _offline():
        raise ModelResolveError(
            f"{repo_id} is neither in the Hugging Face cache nor in ftwizard's catalogue, and HF_HUB_OFFLINE "
            f"is set.{_suggest(repo_id)} Unset HF_HUB_OFFLINE to read its config.json from the Hub, or give "
            "a local folder"
        )
    unreachable = hub_unreachable_reason(huggingface_hub.constants.ENDPOINT)
    if unreachable is not None:
        raise ModelResolveError(_no_network(repo_id, unreachable))
    try:
        path = huggingface_hub.hf_hub_download(repo_id, filename="config.json", revision=revision, token=token)
    except errors.GatedRepoError as exc:
        if token or huggingface_hub.get_token():
            raise ModelResolveError(
                f"{repo_id} is gated and your Hugging Face token has no access yet: accept its terms at "
                f"{page} with the account the token belongs to, then try again"
            ) from exc
        raise ModelResolveError(
            f"{repo_id} is gated: accept its terms at {page}, then log in with `hf auth login` "
            "or set HF_TOKEN, and try again"
        ) from exc
    except errors.RepositoryNotFoundError as exc:
        raise ModelResolveError(
            f"no model {repo_id} on the Hugging Face Hub (or it is private).{_suggest(repo_id)} "
            "Check the spelling (ids look like owner/name); for a private repo log in or set HF_TOKEN"
        ) from exc
    except errors.RevisionNotFoundError as exc:
        raise ModelResolveError(
            f"{repo_id} has no revision {revision!r}: give a branch, tag or commit listed at {page}/tree/main"
        ) from exc
    except (errors.LocalEntryNotFoundError, errors.OfflineModeIsEnabled) as exc:
        raise ModelResolveError(_no_network(repo_id, "the download failed")) from exc
    except (errors.EntryNotFoundError, errors.RemoteEntryNotFoundError) as exc:
        raise ModelResolveError(
            f"{repo_id} has no config.json, so it is not a transformers model (GGUF-only or adapter repo?): "
            "give the original model's id; for a LoRA adapter, give its base model"
        ) from exc
    except errors.HfHubHTTPError as exc:
        raise ModelResolveError(f"the Hub refused {repo_id}'s config.json ({exc}): try again later") from exc
    except (OSError, httpx.TransportError) as exc:
        raise ModelResolveError(
            f"reading {repo_id}'s config.json from the Hub failed ({exc}): check the network and try again"
        ) from exc
    return Path(path)


def _no_network(repo_id: str, reason: str) -> str:
    return (
        f"cannot reach the Hugging Face Hub ({reason}) to read {repo_id}'s config.json, and it is neither in "
        "the Hugging Face cache nor in ftwizard's catalogue. Without a network, give a local folder that holds "
        "the model's config.json (or a catalogue model) and set HF_HUB_OFFLINE=1 so nothing waits for the Hub; "
        "otherwise check the network (or HTTPS_PROXY) and try again"
    )
