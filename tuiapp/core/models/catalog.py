"""The offline model catalogue (presets/models.yaml): popular models' config.json fields, license, gating."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tuiapp.core.presets import read_preset


class CatalogEntry(BaseModel):
    """One catalogue model: its repo id, short names, and the config.json fields a ModelShape reads."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[\w.-]+/[\w.-]+$")
    """The Hugging Face repo id, e.g. meta-llama/Llama-3.1-8B-Instruct."""
    aliases: tuple[str, ...] = ()
    license: str = Field(min_length=1)
    """The Hub's license tag (apache-2.0, llama3.1, gemma, ...)."""
    gated: bool
    """True when the repo asks you to accept its terms, so downloads need a token."""
    config: dict[str, Any]
    """config.json's own field names and values (default branch)."""

    @field_validator("aliases", mode="before")
    @classmethod
    def _tuple(cls, value: object) -> object:
        return tuple(value) if isinstance(value, list) else value

    @property
    def lookup_keys(self) -> tuple[str, ...]:
        """Every lower-case name it answers to: the id, the id without its owner, the aliases."""
        return (self.name.lower(), self.name.split("/", 1)[1].lower(), *(a.lower() for a in self.aliases))


@cache
def model_catalog() -> tuple[CatalogEntry, ...]:
    """Every model in presets/models.yaml, validated, in file order."""
    return tuple(CatalogEntry.model_validate(entry) for entry in read_preset("models.yaml")["models"])


@cache
def _index() -> dict[str, CatalogEntry]:
    return {key: entry for entry in model_catalog() for key in entry.lookup_keys}


def find_in_catalog(query: str) -> CatalogEntry | None:
    """The entry whose id, id without owner, or alias is `query` (case-insensitive); None if none is."""
    return _index().get(query.strip().lower())
