"""Where a run's files go and where the result is published."""

import re

from pydantic import field_validator

from tuiapp.core.config.base import Section
from tuiapp.core.run_names import MAX_RUN_NAME, NAME_RULE, run_name_problem

_HUB_REPO = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


class OutputSection(Section):
    runs_root: str | None = None
    """Folder that holds one directory per run (config, events, log, checkpoints, result); a relative path
    is taken from the current folder. Empty means $FTWIZARD_RUNS_DIR, else ~/.local/share/ftwizard/runs."""

    run_name: str | None = None
    """Name of this run's directory; empty picks one from the model, the method and the time."""

    @field_validator("run_name")
    @classmethod
    def _run_name_shape(cls, value: str | None) -> str | None:
        problem = run_name_problem(value) if value is not None else None
        if problem is not None:
            fix = "shorten it, or leave it empty" if len(value) > MAX_RUN_NAME else NAME_RULE
            raise ValueError(f"{problem}: {fix}")
        return value

    hub_repo: str | None = None
    """Hub repo to push to, as user-or-org/name; empty means do not push."""

    private: bool = True
    """Create the Hub repo as private."""

    @field_validator("hub_repo")
    @classmethod
    def _hub_repo_shape(cls, value: str | None) -> str | None:
        if value is not None and not _HUB_REPO.fullmatch(value):
            raise ValueError("write the Hub repo as user-or-org/name, e.g. alice/qwen-support-lora")
        return value
