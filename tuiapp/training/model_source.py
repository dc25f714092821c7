"""Check that the model can be had before the heavy imports, so a wrong path or an offline miss fails in a
second, in words, instead of after the libraries load and with the Hub client's message."""

from __future__ import annotations

from pathlib import Path

from tuiapp.core.runs.failure import not_cached_fix, offline_variable
from tuiapp.core.user_error import UserError
from tuiapp.core.user_paths import user_path


def check_model_source(name: str, revision: str | None = None) -> None:
    """A name that looks like a path must be a model folder; offline, a Hub id must have its config cached."""
    looks_local = name.startswith((".", "/", "~")) or name.count("/") > 1
    if looks_local:
        if not (user_path(name) / "config.json").is_file():
            raise UserError(
                f"model.name_or_path {name}: no model folder there (one holding config.json)",
                fix="check the path, or give a Hub id such as Qwen/Qwen2.5-0.5B",
            )
        return
    variable = offline_variable()
    if variable is None or Path(name).is_dir():
        return
    import huggingface_hub

    from tuiapp.core.models.local_cache import hub_cache_dir

    try:
        found = huggingface_hub.try_to_load_from_cache(
            name, "config.json", cache_dir=hub_cache_dir(), revision=revision
        )
    except ValueError:  # not a valid repo id: the loader says so in its own words
        return
    if not isinstance(found, str):
        raise UserError(
            f"model {name}: {variable} is set and the model is not in the cache ({hub_cache_dir()})",
            fix=not_cached_fix(variable, name),
        )
