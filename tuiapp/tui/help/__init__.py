"""Help texts as data: one Markdown file per topic (a screen's `HELP_TOPIC`), general.md for the rest."""

from __future__ import annotations

from importlib.resources import files

GENERAL = "general"
TOPICS = (
    "general",
    "hardware",
    "model",
    "method",
    "compare",
    "dataset",
    "hyperparams",
    "training",
    "gpu_box",
    "runs",
    "chat",
    "finish",
)


def help_text(topic: str) -> str:
    """The Markdown for `topic`; general.md when no file has that name."""
    folder = files(__package__)
    page = folder / f"{topic}.md"
    if not topic.isidentifier() or not page.is_file():
        page = folder / f"{GENERAL}.md"
    return page.read_text(encoding="utf-8")


def split_title(markdown: str) -> tuple[str, str]:
    """The first `# ` heading and the text after it; ("", text) when it does not start with one."""
    first, _, rest = markdown.lstrip().partition("\n")
    if first.startswith("# "):
        return first[2:].strip(), rest.lstrip("\n")
    return "", markdown
