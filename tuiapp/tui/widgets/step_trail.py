"""The breadcrumb under the title bar: the steps done, the one on screen, and the ones to come."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from tuiapp.tui.steps import step_index, steps_for


class StepTrail(Widget):
    """`✓ Hardware › ✓ Model › ● Method › Dataset › Settings › Train › Finish`: 75 columns, so it fits 80."""

    DEFAULT_CSS = "StepTrail { height: 1; padding: 0 1; }"

    def __init__(self, step_id: str, planned: bool = False, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.step_id, self.planned = step_id, planned

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        here = step_index(self.step_id)
        for index, step in enumerate(steps_for(self.planned)):
            if index:
                text.append(" › ", style="dim")
            if index < here:
                text.append(f"✓ {step.short}", style="green")
            elif index == here:
                text.append(f"● {step.short}", style="bold reverse")
            else:
                text.append(step.short, style="dim")
        return text
