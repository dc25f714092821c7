"""Say the screen's control where the core's messages name a command-line flag.

The core words its hints for the headless commands (`--skip-bad`); inside the wizard the same hint must
name what is on screen (the skip bad box). One table per screen, applied to every message it shows.
"""

from __future__ import annotations

import re

DATASET_WORDS: dict[str, str] = {
    "skip bad rows with --skip-bad": "tick skip bad to leave bad rows out",
    "skip it with --skip-bad": "tick skip bad to leave it out",
    "--skip-bad": "the skip bad box",
    "rename columns with --map name=expected": "rename columns in the rename box (name=expected)",
    "try --map": "type in the rename box:",
    "pick another format with --format": "pick another format in the format list",
    "pass --task to choose another": "go back to the Method screen to choose another",
    "pass --model for exact ones": "choose a model on the Model screen for exact ones",
    "with --config-name and the split with --split": "as a Hub id with its config and split",
}
PLAN_WORDS: dict[str, str] = {
    "add --gpu 'RTX 4090' or --gpu 24GB to plan for the box you will rent": (
        "press t on the Hardware screen (Esc twice) to plan for the box you will rent"
    ),
    "(ftwizard plan --model ...)": "(Esc to the Model screen)",
    "plan for a GPU with --gpu": "plan for a GPU with t on the Hardware screen",
}
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]+")


def on_screen(text: str, words: dict[str, str]) -> str:
    """`text` with each command-line phrase the table knows replaced by the screen's words."""
    for cli, screen in words.items():
        text = text.replace(cli, screen)
    return text


def flags_left(text: str) -> list[str]:
    """The command-line flags a message still names (a test helper: the wizard's texts should have none)."""
    return FLAG.findall(text)
