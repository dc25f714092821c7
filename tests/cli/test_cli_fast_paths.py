"""`ftwizard`, `ftwizard --gpu X` and `ftwizard --version` skip building the parser (which imports every
command's module): they read the words as the parser would."""

from __future__ import annotations

import pytest

import tuiapp.cli as cli


@pytest.mark.parametrize(
    ("words", "wizard"),
    [
        ([], (None,)),
        (["--gpu", "RTX 4090"], ("RTX 4090",)),
        (["--gpu=24GB"], ("24GB",)),
        (["--gpu", "-5"], None),  # the parser's error, not a GPU named "-5"
        (["--gpu"], None),
        (["--gpu", "24GB", "plan"], None),
        (["--config", "x.yaml"], None),
        (["plan"], None),
        (["-h"], None),
    ],
)
def test_only_plain_wizard_words_skip_the_parser(words: list[str], wizard: tuple[str | None] | None) -> None:
    assert cli._wizard_only(words) == wizard


def test_the_wizard_opens_without_building_the_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str | None] = []
    monkeypatch.setattr(cli, "build_parser", lambda: pytest.fail("the parser was built"))
    monkeypatch.setattr(cli, "_run_wizard", lambda gpu: opened.append(gpu) or 0)
    assert cli.main([]) == 0 and cli.main(["--gpu", "24GB"]) == 0
    assert opened == [None, "24GB"]


def test_version_is_what_the_parser_would_print(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    fast = capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:
        cli.build_parser().parse_args(["--version"])
    assert exited.value.code == 0 and capsys.readouterr().out == fast
