"""Finish-screen scenes: the recorded completed run with an adapter in final/ and a few actions behind it
(merge done, GGUF running at 40 %, push failed with its fix), in a fixed folder so paths read the same
in any checkout. Shared by the snapshot tests (through tui_scenes.SCENES) and scripts/screenshots.py."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from textual.pilot import Pilot
from training_scenes import COMPLETED_RUN

from tuiapp.core.runs.action_events import ActionDone, ActionFailed, ActionProgress, ActionStarted
from tuiapp.core.runs.events import EventWriter
from tuiapp.core.runs.status import write_status
from tuiapp.tui.app import FTWizardApp
from tuiapp.tui.screens.finish_screen import FinishScreen

SCENE_RUNS = Path("/tmp/ftwizard-scenes/finish")
T0 = 1767225700.0  # a little after the recorded run completed


def finish_run(with_actions: bool) -> Path:
    run = SCENE_RUNS / ("with-actions" if with_actions else "fresh") / COMPLETED_RUN.name
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    for name in ("config.yaml", "events.jsonl"):
        shutil.copy(COMPLETED_RUN / name, run / name)
    (run / "final").mkdir()
    (run / "final" / "adapter_config.json").write_text("{}")
    write_status(run / "status.json", 1, launched_at=0.0)
    if with_actions:
        (run / "merged").mkdir()
        (run / "merged" / "config.json").write_text("{}")
        me = os.getpid()  # the GGUF "runs" as long as this process does
        with EventWriter(run / "events.jsonl") as writer:
            writer.write(ActionStarted("merge", "merge-1", me, "bf16 into merged/", time=T0))
            writer.write(ActionDone("merge", "merge-1", "merged into tiny-llama-lora/merged (bf16, 2.1 MiB)",
                                    notes=["merged onto the base in 16-bit"], time=T0 + 3))  # fmt: skip
            writer.write(ActionStarted("gguf", "gguf-1", me, "q8_0", time=T0 + 10))
            writer.write(ActionProgress("gguf", "gguf-1", "converting with llama.cpp's converter", 2, 5, time=T0 + 11))
            writer.write(ActionStarted("push", "push-1", me, "adapter to ada/tiny-chat (private)", time=T0 + 20))
            fixes = ["run `hf auth login`, or set HF_TOKEN"]
            writer.write(ActionFailed("push", "push-1", "no Hugging Face token found", fixes, time=T0 + 21))
    return run


@dataclass(frozen=True)
class FinishScene:
    with_actions: bool

    def make_app(self) -> FTWizardApp:
        return FTWizardApp(finish_dir=finish_run(self.with_actions))

    async def play(self, pilot: Pilot) -> None:
        """Wait for the result and the actions to be read (the follower never ends, so no wait_for_complete)."""
        for _ in range(200):
            screen = pilot.app.screen
            read = isinstance(screen, FinishScreen) and screen.result is not None
            if read and (not self.with_actions or len(screen.records) == 3):
                break
            await pilot.pause(0.05)
        await pilot.pause(0.2)


FINISH_SCENES = {"finish": FinishScene(False), "finish_actions": FinishScene(True)}
