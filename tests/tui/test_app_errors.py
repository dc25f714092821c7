"""An unexpected error inside the app ends it with one line and a crash log, never a traceback."""

from __future__ import annotations

from tui_scenes import NO_GPU

from tuiapp.tui.app import FTWizardApp


class BrokenApp(FTWizardApp):
    def on_mount(self) -> None:
        super().on_mount()
        self.set_timer(0.05, self.explode)

    def explode(self) -> None:
        raise ValueError("something broke")


def test_crash_is_one_line_plus_a_log(monkeypatch, tmp_path, capfd) -> None:
    monkeypatch.setenv("FTWIZARD_STATE_DIR", str(tmp_path))
    app = BrokenApp(hardware=NO_GPU)
    app.run(headless=True, size=(80, 24))
    err = capfd.readouterr().err
    assert app.return_code == 1
    assert "ftwizard: unexpected error: ValueError: something broke" in err
    assert "Traceback" not in err and "explode" not in err
    (log,) = tmp_path.glob("crash-*.log")
    assert "in explode" in log.read_text()
