"""`ftwizard export --to axolotl|llamafactory`, each export read by the tool itself in its own virtual
environment (scripts/make-tool-venvs.sh): Axolotl's validate_config keeps every key we write (it drops unknown
ones silently, so what went in is compared with what came out), and LLaMA-Factory's get_train_args parses every
key from command-line strings (refusing unknown ones) to the value we wrote."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tuiapp.cli import main
from tuiapp.core.export.axolotl import AXOLOTL_CHECKED
from tuiapp.core.export.llamafactory import LLAMAFACTORY_CHECKED, dataset_info_text

SAMPLES = Path(__file__).parents[2] / "tuiapp" / "sample_data"
PROBES = Path(__file__).with_name("tool_probes")
VENVS = Path(os.environ.get("FTWIZARD_TOOL_VENVS") or Path.home() / ".cache" / "ftwizard" / "tool-venvs")
# (data file, method, extra dataset settings): every format and method, renames and dedupe on some
CASES = [
    ("messages.jsonl", "lora", ", dedupe: true"),
    ("alpaca.json", "qlora", ""),
    ("sharegpt.json", "lora8", ""),
    ("prompt_completion.jsonl", "full", ""),
    ("text.txt", "lora", ""),
]


def tool_python(name: str) -> Path:
    python = VENVS / name / "bin" / "python"
    if not python.exists():
        said = f"no {name} environment at {python.parent.parent}: run scripts/make-tool-venvs.sh"
        if os.environ.get("FTWIZARD_REQUIRE_TOOL_VENVS") == "1":  # scripts/test.sh built them: a miss is a failure
            pytest.fail(said)
        pytest.skip(said)
    return python


def tool_version(python: Path, package: str) -> str:
    """The installed version, read from its metadata (importing the tool takes seconds)."""
    code = f"import importlib.metadata as m; print(m.version({package!r}))"
    return subprocess.run([python, "-I", "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def exports(tmp_path: Path, capsys, to: str) -> list[Path]:
    """Each case exported into a folder of its own (with its own copy of the data)."""
    written = []
    for index, (data, method, dataset) in enumerate(CASES):
        folder = tmp_path / f"case{index}"
        folder.mkdir()
        shutil.copy(SAMPLES / data, folder / data)
        config = folder / "job.yaml"
        config.write_text(
            f"model: {{name_or_path: Qwen/Qwen2.5-0.5B-Instruct}}\nmethod: {method}\n"
            f"dataset: {{source: {folder / data}, eval_size: 0.1{dataset}}}\n"
            "training: {max_steps: 2, micro_batch_size: 2, max_length: 256, precision: fp32}\n"
        )
        assert main(["export", str(config), "--to", to]) == 0
        written.append(folder / f"job.{to}.yaml")
    capsys.readouterr()
    return written


def probe(python: Path, script: str, files: list[Path]) -> list[dict]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "DISABLE_VERSION_CHECK": "1", "DO_NOT_TRACK": "1"}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [python, "-I", str(PROBES / script), *map(str, files)], capture_output=True, text=True, timeout=600, env=env
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULTS ")), None)
    assert line is not None, done.stderr[-3000:]
    results = json.loads(line.removeprefix("RESULTS "))
    failed = [f"{r['file']}: {r['error']}" for r in results if "error" in r]
    assert not failed, failed
    return results


def test_axolotl_keeps_every_key_to_the_value_written(tmp_path, capsys) -> None:
    python = tool_python("axolotl")
    assert tool_version(python, "axolotl") == AXOLOTL_CHECKED
    for result in probe(python, "axolotl_validate.py", exports(tmp_path, capsys, "axolotl")):
        given, kept = result["in"], result["out"]
        assert set(given) <= set(kept), f"{result['file']}: Axolotl dropped {set(given) - set(kept)}"
        for key, value in given.items():
            if key == "datasets":
                assert kept[key][0].items() >= value[0].items(), result["file"]
            else:
                assert kept[key] == value, (result["file"], key)


def test_llamafactory_parses_every_key_to_the_value_written(tmp_path, capsys) -> None:
    python = tool_python("llamafactory")
    assert tool_version(python, "llamafactory") == LLAMAFACTORY_CHECKED
    files = exports(tmp_path, capsys, "llamafactory")
    listed = lambda v: [v]  # noqa: E731 - comma lists come back as lists
    as_parsed = {"report_to": lambda v: [] if v == "none" else v, "dataset": listed, "lora_target": listed}
    for result in probe(python, "llamafactory_parse.py", files):
        given, parsed = result["in"], result["out"]
        assert set(given) <= set(parsed), f"{result['file']}: not parsed {set(given) - set(parsed)}"
        for key, value in given.items():
            assert parsed[key] == as_parsed.get(key, lambda v: v)(value), (result["file"], key)
    for path in files:  # the dataset_info.json entry names the file beside it and columns its rows have
        values = yaml.safe_load(path.read_text())
        entry = json.loads(path.with_name("dataset_info.json").read_text())[values["dataset"]]
        data = path.with_name(entry["file_name"])
        assert data.is_file()
        if data.suffix in (".jsonl", ".json"):
            text = data.read_text()
            first = json.loads(text.splitlines()[0]) if data.suffix == ".jsonl" else json.loads(text)[0]
            assert {column for key, column in entry["columns"].items() if key != "tools"} <= set(first), data
    assert yaml.safe_load(files[-1].read_text())["stage"] == "pt"  # plain text trains as pre-training


def test_an_existing_dataset_info_keeps_its_other_entries(tmp_path, capsys) -> None:
    shutil.copy(SAMPLES / "alpaca.json", tmp_path / "alpaca.json")
    (tmp_path / "dataset_info.json").write_text('{"mine": {"file_name": "mine.json"}}')
    config = tmp_path / "job.yaml"
    config.write_text(f"model: {{name_or_path: org/model}}\ndataset: {{source: {tmp_path / 'alpaca.json'}}}\n")
    assert main(["export", str(config), "--to", "llamafactory"]) == 0
    info = json.loads((tmp_path / "dataset_info.json").read_text())
    assert set(info) == {"mine", "ftwizard_job"} and info["ftwizard_job"]["formatting"] == "alpaca"
    assert "adds the entry ftwizard_job" in capsys.readouterr().err
    with pytest.raises(ValueError, match="not JSON"):
        dataset_info_text("{broken", "x", {})


def test_renames_become_the_tools_own_column_names(tmp_path, capsys) -> None:
    rows = [{"question": "2+2?", "answer": "4", "input": ""}]
    (tmp_path / "qa.json").write_text(json.dumps(rows))
    config = tmp_path / "job.yaml"
    config.write_text(
        "model: {name_or_path: meta-llama/Llama-3.2-1B-Instruct}\n"
        f"dataset: {{source: {tmp_path / 'qa.json'}, columns: {{question: instruction, answer: output}}}}\n"
    )
    for to in ("axolotl", "llamafactory"):
        assert main(["export", str(config), "--to", to]) == 0
    axolotl = yaml.safe_load((tmp_path / "job.axolotl.yaml").read_text())["datasets"][0]["type"]
    assert (axolotl["field_instruction"], axolotl["field_output"]) == ("question", "answer")
    lf = json.loads((tmp_path / "dataset_info.json").read_text())["ftwizard_job"]["columns"]
    assert (lf["prompt"], lf["response"]) == ("question", "answer")
    assert yaml.safe_load((tmp_path / "job.llamafactory.yaml").read_text())["template"] == "llama3"
    assert "template:" not in capsys.readouterr().out  # a known family is not listed as untranslated
