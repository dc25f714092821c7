"""Write screenshots/*.svg from the same scenes the snapshot tests use (tests/tui/tui_scenes.py)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "tui"))

from test_chat_screen import ScriptedChat, ask_about_lora, chat_app  # noqa: E402
from tui_scenes import SCENES  # noqa: E402

from tuiapp.core.chat.settings import GenerationSettings  # noqa: E402

SIZE = (100, 30)


async def shoot(name: str) -> Path:
    scene = SCENES[name]
    app = scene.make_app()
    async with app.run_test(size=SIZE) as pilot:
        await scene.play(pilot)
        path = app.save_screenshot(filename=f"{name}.svg", path=str(ROOT / "screenshots"))
    return Path(path)


async def shoot_chat() -> Path:
    """The Chat screen with the snapshot test's scripted child (base and tuned answers, fixed text)."""
    settings = GenerationSettings(temperature=0, system_prompt="Answer in one sentence.")
    app = chat_app(ScriptedChat(), settings=settings)
    async with app.run_test(size=(120, 30)) as pilot:  # side by side from 100 columns
        await ask_about_lora(pilot)
        path = app.save_screenshot(filename="chat.svg", path=str(ROOT / "screenshots"))
    return Path(path)


def main() -> None:
    for name in sorted(SCENES):
        print(asyncio.run(shoot(name)).relative_to(ROOT))
    print(asyncio.run(shoot_chat()).relative_to(ROOT))


if __name__ == "__main__":
    main()
