"""How a config file is read and how its mistakes are located and reported (issue 11, items 1, 2, 3, 5, 9):
small hostile files are refused at once with a located message, duplicates are refused with both lines, every
mistake comes in one report at its own line, and no message echoes a token or grows with the input."""

from __future__ import annotations

import os
import pickle
import threading

import pytest
import yaml

from tuiapp.core.config import ConfigError, load_config, loads_config, validate_config, with_changes, yaml_reader
from tuiapp.core.config.errors import MAX_PROBLEM_CHARS, short_value
from tuiapp.core.config.yaml_reader import MAX_CONFIG_BYTES, parse_config_yaml

MODEL = "model: {name_or_path: org/m}\n"
TOKEN = "hf_" + "aB3" * 12  # looks like a token (hf_ and 36 letters and digits); not a real one


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        loads_config(text, "cfg.yaml")
    return caught.value.problems


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """The 'billion laughs' shape: each level lists the previous one `width` times (9**9 values, ~1 KB)."""
    lines = [MODEL.strip(), 'a0: &a0 ["lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join([*lines, f"lora: {{target_modules: *a{levels - 1}}}"]) + "\n"


# --- item 1: small inputs that blew up -------------------------------------------------------------------------


def test_an_alias_bomb_is_refused_at_its_first_anchor() -> None:
    text = alias_bomb()
    assert len(text) < 1500
    assert problems(text) == ["cfg.yaml:2: anchors (&a0) are not read in a config: write the values out"]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("lr: &rate 0.001\n", "cfg.yaml:2: anchors (&rate) are not read"),
        ("method: *nowhere\n", "cfg.yaml:2: aliases (*nowhere) are not read"),
        ("<<: {task: sft}\n", "cfg.yaml:2: merge keys (<<) are not read"),
    ],
)
def test_anchors_aliases_and_merge_keys_are_refused_with_their_line(extra: str, expected: str) -> None:
    assert problems(MODEL + extra)[0].startswith(expected)


def test_a_huge_shared_value_built_in_python_is_shown_in_a_few_characters() -> None:
    """validate_config takes data from Python too: a value sharing one list 9**8 times must not be expanded."""
    bomb: list = ["lol"]
    for _ in range(8):
        bomb = [bomb] * 9
    with pytest.raises(ConfigError) as caught:
        validate_config({"model": {"name_or_path": "m"}, "method": bomb, "lora": {"target_modules": bomb}})
    assert all(len(problem) <= MAX_PROBLEM_CHARS for problem in caught.value.problems)
    assert any("method must be one of" in problem for problem in caught.value.problems)


def test_short_value_is_bounded_whatever_the_value() -> None:
    loop: list = []
    loop.append(loop)
    for value in (["x" * 10_000] * 10_000, {"k" * 5000: "v"}, 10**5000, loop, "y" * 1_000_000):
        assert len(short_value(value)) <= 70
    assert short_value(10**5000) == "a 5001-digit number"


@pytest.mark.parametrize("depth", [40, 5000])
def test_deep_nesting_is_a_located_config_error(depth: int) -> None:
    found = problems(MODEL + "x: " + "[" * depth + "]" * depth + "\n")
    assert found[0].startswith("cfg.yaml:2") and "nest deeper than 32 levels" in found[0]


@pytest.mark.parametrize(
    "extra",
    [
        "x: !!python/object/apply:os.system [echo hi]\n",
        "x: !!python/name:os.system\n",
        "x: !!python/object/new:dict {}\n",
    ],
)
def test_python_tags_are_refused_before_anything_is_built(extra: str) -> None:
    (found,) = problems(MODEL + extra)
    assert found.startswith("cfg.yaml:2: the YAML tag !!python/") and "could run code" in found


def test_huge_keys_and_values_give_short_messages() -> None:
    found = problems(MODEL + f"method: {'q' * 100_000}\nlora:\n  ? {'k' * 100_000}\n  : 1\n")  # ? : a key past 1024
    assert len(found) == 2 and all(len(problem) <= MAX_PROBLEM_CHARS for problem in found)


def test_a_number_too_long_for_python_is_located() -> None:
    (found,) = problems(MODEL + f"training: {{seed: {'9' * 5000}}}\n")
    assert found == "cfg.yaml:2: a 5000-digit number is past what any setting takes: check the value"


# --- item 2: what is given as the config path -----------------------------------------------------------------


def test_a_fifo_is_refused_without_blocking(tmp_path) -> None:
    fifo = tmp_path / "cfg.yaml"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []
    reader = threading.Thread(target=lambda: outcome.append(_raised(lambda: load_config(fifo))), daemon=True)
    reader.start()
    reader.join(timeout=10)
    if reader.is_alive():  # let a blocked reader go before failing
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert not reader.is_alive() and isinstance(outcome[0], ConfigError)
    assert "a FIFO (named pipe), not a config file" in str(outcome[0])


def _raised(call) -> BaseException | None:
    try:
        call()
    except BaseException as exc:
        return exc
    return None


@pytest.mark.parametrize(("path", "kind"), [("/dev/null", "a character device"), ("FOLDER", "a folder")])
def test_devices_and_folders_are_refused_by_their_type(tmp_path, path: str, kind: str) -> None:
    with pytest.raises(ConfigError, match=f"this is {kind}, not a config file"):
        load_config(tmp_path if path == "FOLDER" else path)


def test_a_file_past_the_size_cap_is_refused_with_its_size(tmp_path) -> None:
    big = tmp_path / "cfg.yaml"
    with big.open("wb") as handle:
        handle.truncate(2 * MAX_CONFIG_BYTES)  # sparse: no disk used
    with pytest.raises(ConfigError, match=r"the file is 2\.0 MB, far larger than a config"):
        load_config(big)


def test_text_that_is_not_utf8_is_located(tmp_path) -> None:
    path = tmp_path / "cfg.yaml"
    path.write_bytes(MODEL.encode() + b"task: s\xfft\n")
    with pytest.raises(ConfigError, match=r"cfg.yaml:2: not UTF-8 text \(byte 0xff\)"):
        load_config(path)


# --- item 3: work that grows with the input, not faster ------------------------------------------------------


def test_twenty_thousand_unknown_keys_show_the_first_fifty_and_count_the_rest() -> None:
    text = MODEL + "".join(f"k{i}: 1\n" for i in range(20_000))
    with pytest.raises(ConfigError) as caught:
        loads_config(text, "cfg.yaml")
    error = caught.value
    assert len(error.problems) == 50 and error.more == 19_950
    assert error.problems[0] == "cfg.yaml:2: k0 is not a known setting; remove it"
    assert error.problems[-1] == "cfg.yaml:51: k49 is not a known setting; remove it"
    assert str(error).startswith("20000 problem(s) in cfg.yaml (the first 50):")
    assert str(error).endswith("\n  ... and 19950 more")


@pytest.mark.parametrize(
    "text",
    [
        MODEL + "task: dpo\nlora:\n  r: 8\n  target_modules:\n    - q_proj\n    - v_proj\n",
        "# comment\nmodel:\n  name_or_path: 'a: b'\n  revision: null\ndataset: {source: \"x.jsonl\", eval_size: 0.5}\n",
        "model: {name_or_path: m}\noutput:\n  run_name: >-\n    folded\n    text\n  private: yes\n",
        "a: ~\nb: 1.5e3\nc: 0x1f\nd: 2024-01-02\ne: ''\nf: [1, [2, {g: h}]]\n",
        "",
    ],
)
@pytest.mark.parametrize("loader", ["libyaml", "pure Python"])
def test_the_one_pass_reader_reads_what_yaml_safe_load_reads(text: str, loader: str, monkeypatch) -> None:
    if loader == "pure Python":  # where libyaml is missing
        monkeypatch.setattr(yaml_reader, "_LOADER", yaml.SafeLoader)
    assert parse_config_yaml(text, "cfg.yaml").data == yaml.safe_load(text)


def test_the_pure_python_parser_refuses_deep_nesting_at_our_cap_too(monkeypatch) -> None:
    monkeypatch.setattr(yaml_reader, "_LOADER", yaml.SafeLoader)
    found = problems(MODEL + "x: " + "[" * 5000 + "]" * 5000 + "\n")
    assert found == [f"cfg.yaml:2: {yaml_reader._TOO_DEEP}"]


def test_keys_are_read_as_the_text_written() -> None:
    """A key is a name: `1:` is the column named "1", not the number (duplicates compare as written)."""
    assert parse_config_yaml("columns: {1: text, yes: no}\n", "c").data == {"columns": {"1": "text", "yes": False}}


# --- item 4: nothing the user wrote is dropped --------------------------------------------------------------


def test_a_second_section_is_refused_naming_both_lines() -> None:
    text = MODEL + "training:\n  max_steps: 500\nlora: {r: 8}\ntraining:\n  learning_rate: 0.001\n"
    assert problems(text) == ["cfg.yaml:5: training appears twice (first on line 2): merge them into one"]


def test_every_duplicate_key_at_any_depth_is_reported_at_once() -> None:
    text = MODEL + "lora: {r: 8, r: 16}\ndataset:\n  source: a.jsonl\n  columns:\n    q: x\n    q: y\n"
    text += "task: sft\ntask: dpo\n"
    assert problems(text) == [
        "cfg.yaml:2: lora.r appears twice (first on line 2): keep one",
        "cfg.yaml:7: dataset.columns.q appears twice (first on line 6): keep one",
        "cfg.yaml:9: task appears twice (first on line 8): keep one",
    ]


def test_equal_list_items_are_not_duplicates() -> None:
    assert loads_config(MODEL + "lora: {target_modules: [q_proj, q_proj]}\n").lora.target_modules == ["q_proj"] * 2


# --- item 9: each mistake once, at its own line, all in one report -------------------------------------------

ISSUE_EXAMPLE = """# a config with a task that does not fit its data
model:
  name_or_path: org/m
method: lora
task: dpo
dataset:
  source: d.jsonl
  format: alpaca
"""


def test_a_rule_over_two_keys_is_at_the_first_and_names_both_lines() -> None:
    assert problems(ISSUE_EXAMPLE) == [
        "cfg.yaml:5: task dpo cannot train on dataset.format alpaca: set dataset.format to one of auto, preference, "
        "or choose a task that fits the data (task on line 5, dataset.format on line 8)"
    ]


def test_field_errors_do_not_hide_the_rules_and_every_rule_reports() -> None:
    text = ISSUE_EXAMPLE + "lora: {r: 0}\ntraining:\n  packing: true\n  eval_steps: 10\n  lr: 0.1\n"
    found = problems(text)
    assert [problem.split(":")[1] for problem in found] == ["5", "9", "11", "12", "13"]
    assert "task dpo cannot train on dataset.format alpaca" in found[0]
    assert found[1] == "cfg.yaml:9: lora.r must be a positive integer, got 0"
    assert found[2].startswith("cfg.yaml:11: training.packing works with task sft only, not dpo")
    assert found[2].endswith("(training.packing on line 11, task on line 5)")
    assert found[3].startswith("cfg.yaml:12: training.eval_steps is set but there is no eval data")
    assert found[4].startswith("cfg.yaml:13: training.lr is not a known setting (did you mean learning_rate?)")


def test_a_rule_is_skipped_when_a_setting_it_needs_is_wrong() -> None:
    """`task: dpx` is one mistake: the data rule does not also fire on a guess of the task."""
    assert problems(MODEL + "task: dpx\ndataset: {source: d.jsonl, format: alpaca}\n") == [
        "cfg.yaml:2: task must be one of sft, dpo, kto, orpo or grpo, got 'dpx' (did you mean dpo?)"
    ]


def test_a_bad_list_item_is_one_message_at_its_line() -> None:
    assert problems(MODEL + "lora:\n  target_modules:\n    - q_proj\n    - 5\n") == [
        "cfg.yaml:5: lora.target_modules[1] must be text, got 5"
    ]
    assert problems(MODEL + "lora: {target_modules: 5}\n") == [
        "cfg.yaml:2: lora.target_modules must be a list of names or a name, got 5"
    ]


def test_rules_are_reported_together_without_a_file_too() -> None:
    with pytest.raises(ConfigError) as caught:
        validate_config(
            {
                "model": {"name_or_path": "m"},
                "task": "dpo",
                "dataset": {"source": "d", "format": "alpaca"},
                "training": {"packing": True, "max_steps": 5},
                "debug": {"inject_oom_at_step": 9},
            }
        )
    assert len(caught.value.problems) == 3 and not caught.value.problems[0].startswith("<")


# --- a token never goes into a config -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (f"output:\n  run_name: {TOKEN}\n", "cfg.yaml:3: output.run_name holds what looks like a Hugging Face token"),
        (f"lora: {{target_modules: [q_proj, 'x{TOKEN}']}}\n", "cfg.yaml:2: lora.target_modules[1] holds"),
        (f"# my token: {TOKEN}\n", "cfg.yaml:2: this line holds what looks like a Hugging Face token"),
        (f"{TOKEN}: 1\n", "cfg.yaml:2: hf_… holds what looks like a Hugging Face token"),
        (f"method: {TOKEN}\n", "cfg.yaml:2: method holds what looks like"),
    ],
)
def test_a_token_anywhere_is_refused_and_never_echoed(extra: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        loads_config(MODEL + extra, "cfg.yaml")
    assert any(problem.startswith(expected) for problem in caught.value.problems), caught.value.problems
    assert "HF_TOKEN" in str(caught.value) and "hf auth login" in str(caught.value)
    assert TOKEN not in str(caught.value) and TOKEN[:20] not in str(caught.value)


def test_every_way_of_building_a_config_refuses_a_token() -> None:
    config = loads_config(MODEL)
    with pytest.raises(ConfigError, match=r"model\.revision holds what looks like a Hugging Face token"):
        with_changes(config, {"model.revision": TOKEN})
    with pytest.raises(ConfigError, match=r"dataset\.source holds what looks like a Hugging Face token"):
        validate_config({"model": {"name_or_path": "m"}, "dataset": {"source": f"https://x/?t={TOKEN}"}})


def test_a_config_error_reads_the_same_after_crossing_a_process_boundary() -> None:
    error = ConfigError([f"cfg.yaml:{i}: p{i}" for i in range(60)], "cfg.yaml")
    again = pickle.loads(pickle.dumps(error))
    assert (again.problems, again.more, str(again)) == (error.problems, 10, str(error))


def test_a_sections_own_rule_is_at_the_first_key_it_names_with_both_lines() -> None:
    """A rule a section checks itself (TrainingSection: eval_steps past max_steps) is located by the keys its
    message names, not at the section's line."""
    text = MODEL + "training:\n  eval_steps: 50\n  max_steps: 10\ndataset:\n  source: d.jsonl\n  eval_size: 2.5\n"
    assert problems(text) == [
        "cfg.yaml:3: training.eval_steps (50) is larger than training.max_steps (10): no evaluation would run; "
        "lower eval_steps (training.eval_steps on line 3, training.max_steps on line 4)",
        "cfg.yaml:7: dataset.eval_size must be a fraction below 1 or a whole number of rows",
    ]
