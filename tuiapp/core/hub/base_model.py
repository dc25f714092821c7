"""What the card says about the base model: its Hub id (when there is one) and its license, read from the base's
own model card on this machine (the local Hugging Face cache, or the model folder) or the reviewed offline
catalogue; never guessed and never fetched."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from tuiapp.core.models.local_cache import MODEL_PREFIX, hub_cache_dir
from tuiapp.core.user_paths import user_path

_HUB_ID = re.compile(r"^(?:[A-Za-z0-9_][\w.-]*/)?[\w.-]+$")  # org/name, or a legacy name alone (gpt2)
_CACHE_SNAPSHOT = re.compile(r"models--(?P<owner>[\w.-]+?)--(?P<name>[\w.-]+)$")
MAX_CARD_BYTES = 1_000_000  # a model card's YAML front matter is near the top; read at most this much


@dataclass(frozen=True)
class BaseLicense:
    """The base's license tag, and for `other` the name and link its card gives."""

    license: str
    name: str | None = None
    link: str | None = None


def is_local_path(name_or_path: str) -> bool:
    """Whether a config value names a folder or file on this machine rather than a Hub id (a run's config holds
    absolute paths for local things)."""
    return name_or_path.startswith(("/", "~", ".", "\\")) or bool(re.match(r"^[A-Za-z]:[\\/]", name_or_path))


def hub_id_of(name_or_path: str) -> str | None:
    """The Hub id a model setting stands for: the id itself, or the one a cache snapshot folder belongs to
    (`.../models--org--name/snapshots/REV`); None for any other local folder."""
    if not is_local_path(name_or_path):
        return name_or_path if _HUB_ID.fullmatch(name_or_path) else None
    path = Path(name_or_path)
    if path.parent.name == "snapshots":
        found = _CACHE_SNAPSHOT.search(path.parent.parent.name)
        if found:
            return f"{found['owner']}/{found['name']}"
    return None


def base_license(name_or_path: str, revision: str | None = None, cache_dir: Path | None = None) -> BaseLicense | None:
    """The base's license from its own card (model folder, then the cache), else the catalogue; None if unknown."""
    hub_id = hub_id_of(name_or_path)
    cards: list[Path] = []
    if is_local_path(name_or_path):
        cards.append(user_path(name_or_path) / "README.md")
    if hub_id is not None:
        cards.extend(_cached_cards(hub_id, revision, cache_dir or hub_cache_dir()))
    for card in cards:
        found = card_license(card)
        if found is not None:
            return found
    if hub_id is not None:
        from tuiapp.core.models.catalog import find_in_catalog

        entry = find_in_catalog(hub_id)
        if entry is not None and entry.name.lower() == hub_id.lower() and entry.license != "other":
            return BaseLicense(entry.license)
    return None


def _cached_cards(hub_id: str, revision: str | None, cache_dir: Path) -> list[Path]:
    repo = cache_dir / f"{MODEL_PREFIX}{hub_id.replace('/', '--')}"
    ref = revision or "main"
    try:
        commit = (repo / "refs" / ref).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        commit = ref  # a commit hash given as the revision is its own snapshot folder
    return [repo / "snapshots" / commit / "README.md"]


def card_license(card: Path) -> BaseLicense | None:
    """The `license` (and `license_name` / `license_link`) of a model card's YAML front matter."""
    try:
        with card.open(encoding="utf-8") as handle:
            text = handle.read(MAX_CARD_BYTES)
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith("---"):
        return None
    try:
        meta = yaml.safe_load(text.split("---", 2)[1])
    except (yaml.YAMLError, IndexError):
        return None
    if not isinstance(meta, dict) or not isinstance(meta.get("license"), str) or not meta["license"].strip():
        return None
    extra = {key: meta.get(key) for key in ("license_name", "license_link")}
    extra = {key: value.strip() for key, value in extra.items() if isinstance(value, str) and value.strip()}
    return BaseLicense(meta["license"].strip(), extra.get("license_name"), extra.get("license_link"))
