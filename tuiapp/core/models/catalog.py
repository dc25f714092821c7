"""The offline model catalogue (presets/models.yaml): popular models' config.json fields, license, gating.

Each listed entry also answers, by rule, for ids of the same shape: its base model (`base`, with the
config.json fields that differ in `base_config`) and the `unsloth/` mirrors of both (`unsloth` names which
exist: the 16-bit copy, `-bnb-4bit`, `-unsloth-bnb-4bit`). A 4-bit mirror's config carries the
`quantization_config` its config.json has, so it is sized as the stored 4-bit checkpoint it is.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tuiapp.core.presets import read_preset

RepoId = str
MirrorKind = Literal["16bit", "bnb-4bit", "unsloth-bnb-4bit"]
MIRROR_SUFFIX: dict[str, str] = {"16bit": "", "bnb-4bit": "-bnb-4bit", "unsloth-bnb-4bit": "-unsloth-bnb-4bit"}
UNSLOTH_OWNER = "unsloth"
BNB_4BIT_CONFIG: dict[str, Any] = {
    "_load_in_4bit": True,
    "_load_in_8bit": False,
    "bnb_4bit_compute_dtype": "bfloat16",
    "bnb_4bit_quant_storage": "uint8",
    "bnb_4bit_quant_type": "nf4",
    "bnb_4bit_use_double_quant": True,
    "llm_int8_enable_fp32_cpu_offload": False,
    "llm_int8_has_fp16_weight": False,
    "llm_int8_skip_modules": None,
    "llm_int8_threshold": 6.0,
    "load_in_4bit": True,
    "load_in_8bit": False,
    "quant_method": "bitsandbytes",
}
"""A `-bnb-4bit` mirror's quantization_config: Unsloth's loader quantizes with NF4, double quantization and a
bf16 compute dtype (unsloth/models/llama.py, FastLlamaModel.from_pretrained), and transformers 5 writes a
BitsAndBytesConfig as exactly these keys (checked by saving a tiny model loaded in 4-bit)."""
DYNAMIC_SKIP = ["lm_head", "multi_modal_projector", "merger", "modality_projection"]
"""The fixed head of a `-unsloth-bnb-4bit` ("dynamic 4-bit") mirror's skip list (unsloth_zoo.peft_utils
SKIP_QUANTIZATION_MODULES); the real file adds layers chosen per model, which only that file knows."""
DYNAMIC_NOTE = (
    "Unsloth's dynamic 4-bit mirror also keeps a few layers it picked per model in 16-bit; offline they are "
    "counted as 4-bit (a few hundred MiB at most): resolve it from the Hub or the cache for its own list"
)


class CatalogEntry(BaseModel):
    """One catalogue model: its repo id, short names, and the config.json fields a ModelShape reads."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: RepoId = Field(pattern=r"^[\w.-]+/[\w.-]+$")
    """The Hugging Face repo id, e.g. meta-llama/Llama-3.1-8B-Instruct."""
    aliases: tuple[str, ...] = ()
    license: str = Field(min_length=1)
    """The Hub's license tag (apache-2.0, llama3.1, gemma, ...)."""
    gated: bool
    """True when the repo asks you to accept its terms, so downloads need a token."""
    config: dict[str, Any]
    """config.json's own field names and values (default branch)."""
    base: RepoId | None = Field(default=None, pattern=r"^[\w.-]+/[\w.-]+$")
    """The base (pre-trained) model this one was tuned from, when it has the same shape."""
    base_config: dict[str, Any] = {}
    """The base's config.json fields that differ from this entry's (Qwen2.5 bases: a longer context)."""
    base_source: str | None = None
    """Where the base's figures were checked."""
    unsloth: tuple[MirrorKind, ...] = ()
    """Which unsloth/ mirrors exist for this id and its base, named unsloth/{name}{suffix}."""
    unsloth_base: tuple[MirrorKind, ...] | None = None
    """The base's mirrors when they differ from `unsloth`."""
    unsloth_stem: str | None = None
    """The mirror's name when unsloth spells it differently (unsloth/mistral-7b-instruct-v0.3)."""
    unsloth_base_stem: str | None = None
    derived_from: RepoId | None = None
    """For an id answered by rule: the listed entry it was derived from; None for a listed entry."""
    notes: tuple[str, ...] = ()
    """What the wizard says beside this entry's figures."""

    @field_validator("aliases", "unsloth", "unsloth_base", "notes", mode="before")
    @classmethod
    def _tuple(cls, value: object) -> object:
        return tuple(value) if isinstance(value, list) else value

    @property
    def lookup_keys(self) -> tuple[str, ...]:
        """Every lower-case name it answers to: the id, the id without its owner, the aliases."""
        return (self.name.lower(), self.name.split("/", 1)[1].lower(), *(a.lower() for a in self.aliases))


@cache
def model_catalog() -> tuple[CatalogEntry, ...]:
    """Every model listed in presets/models.yaml, validated, in file order."""
    return tuple(CatalogEntry.model_validate(entry) for entry in read_preset("models.yaml")["models"])


def _base_entry(entry: CatalogEntry) -> CatalogEntry | None:
    if entry.base is None:
        return None
    return CatalogEntry(
        name=entry.base,
        license=entry.license,
        gated=entry.gated,
        config={**entry.config, **entry.base_config},
        unsloth=entry.unsloth if entry.unsloth_base is None else entry.unsloth_base,
        unsloth_stem=entry.unsloth_base_stem,
        derived_from=entry.name,
        notes=(f"sized with {entry.name}'s figures: same shape (checked in {_short(entry.base_source)})",),
    )


def _short(source: str | None) -> str:
    """A source as a note names it: its first words, before any parenthesis."""
    return (source or "its config.json").split(" (", 1)[0]


def _mirrors(entry: CatalogEntry, listed: CatalogEntry) -> list[CatalogEntry]:
    """The unsloth/ mirrors of `entry`: public copies (never gated), 4-bit ones stored quantized."""
    stem = entry.unsloth_stem or entry.name.split("/", 1)[1]
    mirrors = []
    for kind in entry.unsloth:
        config = dict(entry.config)
        notes: tuple[str, ...] = (f"a mirror of {entry.name} by Unsloth",)
        if kind != "16bit":
            skip = DYNAMIC_SKIP if kind == "unsloth-bnb-4bit" else None
            config["quantization_config"] = {**BNB_4BIT_CONFIG, "llm_int8_skip_modules": skip}
            notes = (*notes, DYNAMIC_NOTE) if skip else notes
        mirrors.append(
            CatalogEntry(
                name=f"{UNSLOTH_OWNER}/{stem}{MIRROR_SUFFIX[kind]}",
                license=listed.license,
                gated=False,
                config=config,
                derived_from=listed.name,
                notes=notes,
            )
        )
    return mirrors


@cache
def derived_entries() -> tuple[CatalogEntry, ...]:
    """Every id answered by rule: the listed entries' bases, then the unsloth/ mirrors of both."""
    bases: list[CatalogEntry] = []
    mirrors: list[CatalogEntry] = []
    for entry in model_catalog():
        base = _base_entry(entry)
        mirrors += _mirrors(entry, entry)
        if base is not None:
            bases.append(base)
            mirrors += _mirrors(base, entry)
    return (*bases, *mirrors)


def catalog_names() -> tuple[RepoId, ...]:
    """Every id the catalogue answers offline: the listed ones in file order, then the derived ones."""
    return tuple(entry.name for entry in (*model_catalog(), *derived_entries()))


@cache
def _index() -> dict[str, CatalogEntry]:
    """Lower-case name -> entry. Full ids win over aliases, aliases over ids without their owner, and
    a listed entry's owner-less name over a derived one's (so `qwen2.5-7b` stays the alias it was)."""
    listed, derived = model_catalog(), derived_entries()
    index: dict[str, CatalogEntry] = {}
    for entry in (*reversed(derived), *reversed(listed)):
        if entry.derived_from is None or not entry.name.startswith(f"{UNSLOTH_OWNER}/"):
            index[entry.name.split("/", 1)[1].lower()] = entry
    index |= {alias.lower(): entry for entry in listed for alias in entry.aliases}
    index |= {entry.name.lower(): entry for entry in (*derived, *listed)}
    return index


def find_in_catalog(query: str) -> CatalogEntry | None:
    """The entry whose id, id without owner, or alias is `query` (case-insensitive); None if none is."""
    return _index().get(query.strip().lower())
