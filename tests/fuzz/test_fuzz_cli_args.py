"""Generated option values for every command that runs without side effects (RUN commands on runs that do not
exist, `train` with the worker faked): a value out of its bounds is refused at parse time naming the option
(exit 2); values in bounds run (exit 0) and are used as given, never replaced by a default."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fuzz_profile import fuzz_settings
from fuzz_runner import Outcome, check_clean, expect_exit, expect_located, expect_true, run_cli, working_dir
from hypothesis import given
from hypothesis import strategies as st

from tuiapp.core.chat.settings import BOUNDS

KIND = "cli"
TOKENS = ["-1", "0", "1", "2", "3", "7", "16", "64", "2048", "1048576", "1048577", "99999999999999999999", "nan"]
TOKENS += ["inf", "-inf", "1e3", "1.5", "0.5", "0.05", "", " ", "abc", "٣", "1_000", "+5", " 7 ", "9" * 5000, "0x10"]
TOKENS += ["1e309", "-0", "1,000", "\ud800"]
WHOLE = re.compile(r"\A[0-9]+\Z")
REAL = re.compile(r"\A-?[0-9]+(\.[0-9]+)?\Z")
TEXT = st.one_of(st.text(max_size=20), st.sampled_from(["", " ", "x" * 3000, "\ud800", "a\x00b", "../..", "RTX 4090"]))
ROWS = 10  # rows in the dataset the data-inspect cases read
SAFE_MAX = 2**63 - 1  # past this no count of anything is meant


def whole_verdict(token: str, low: int, high: int, good_high: int) -> str:
    """good / bad / gray for a whole-number option with bounds [low, high]; good_high: the most a person uses."""
    if WHOLE.match(token):
        value = int(token) if len(token) < 30 else SAFE_MAX + 1  # 5000 digits: past every bound
        if low <= value <= min(high, good_high):
            return "good"
        return "bad" if value < low or value > high else "gray"
    if REAL.match(token) or token.strip() in ("", "abc", "nan", "inf", "-inf", "0x10", "1e309", "\ud800"):
        return "bad"
    return "gray"  # "٣", "1_000", "+5", " 7 ", "1e3", "1,000": either refused or read as that number


def real_verdict(token: str, low: float, high: float) -> str:
    if REAL.match(token):
        return "good" if low <= float(token) <= high else "bad"
    return "gray" if token in ("1e3", "+5", " 7 ", "-0", "٣") else "bad"


@dataclass
class Case:
    argv: list[str]
    verdicts: dict[str, str] = field(default_factory=dict)  # option -> good/bad/gray
    values: dict[str, str] = field(default_factory=dict)
    run: str | None = None  # the RUN named (which does not exist)


@st.composite
def plan_cases(draw: Any) -> Case:
    case = Case(["plan", "--model", "MODEL", "--gpu", "24GB", "--json"])
    for option, low, high, good_high in (("--seq-len", 16, 1_048_576, 8192), ("--micro-batch", 1, SAFE_MAX, 64)):
        _maybe_whole(draw, case, option, low, high, good_high)
    if "--micro-batch" in case.values:
        _maybe_whole(draw, case, "--grad-accum", 1, SAFE_MAX, 256)
    _maybe_whole(draw, case, "--lora-r", 1, SAFE_MAX, 1024)
    _maybe_choice(draw, case, "--method", ["full", "lora", "qlora", "lora8"])
    _maybe_choice(draw, case, "--optimizer", ["adamw_torch", "adamw_8bit", "paged_adamw_8bit"])
    return case


@st.composite
def inspect_cases(draw: Any) -> Case:
    case = Case(["data", "inspect", "DATA", "--json", "--format", "text"])
    _maybe_whole(draw, case, "--max-len", 16, 1_048_576, 8192)
    _maybe_whole(draw, case, "--row", 1, ROWS, ROWS)
    _maybe_whole(draw, case, "--micro-batch", 1, SAFE_MAX, 64)
    _maybe_whole(draw, case, "--grad-accum", 1, SAFE_MAX, 256)
    if draw(st.booleans()):
        token = draw(st.sampled_from([*TOKENS, "0.1", "2.5"]))
        good = {"0", "0.5", "0.05", "0.1", "1", "2", "3", "7"}
        bad = {"-1", "nan", "inf", "-inf", "1.5", "2.5", "", " ", "abc", "0x10", "1e309", "\ud800", "1,000"}
        _set(case, "--eval-size", token, "good" if token in good else ("bad" if token in bad else "gray"))
    return case


@st.composite
def run_cases(draw: Any) -> Case:
    """A RUN command on a run that does not exist, with its options generated."""
    command = draw(st.sampled_from(["stop", "resume", "attach", "chat", "finish", "merge", "gguf", "push"]))
    names = st.text(max_size=15).filter(lambda t: "/" not in t and t.strip(" .") != "")  # never a real folder
    name = draw(st.one_of(st.sampled_from(["nope", "../etc", "x\n", "a" * 300, "", "-"]), names))
    case = Case([command, "--runs-dir", "RUNS"], run=name)
    if command == "chat":
        for option in ("max_new_tokens", "temperature", "top_p", "repetition_penalty"):
            if draw(st.booleans()):
                low, high, _ = BOUNDS[option]
                token = draw(st.sampled_from(TOKENS))
                verdict = whole_verdict(token, int(low), int(high), int(high)) if option == "max_new_tokens" else None
                _set(case, "--" + option.replace("_", "-"), token, verdict or real_verdict(token, low, high))
        if draw(st.booleans()):
            _set(case, "--prompt", draw(TEXT), "gray")
    if command in ("merge", "gguf"):
        _maybe_choice(draw, case, "--dtype", ["bf16", "fp16"])
    if command == "gguf" and draw(st.booleans()):
        _set(case, "--quant", draw(st.one_of(TEXT, st.sampled_from(["q8_0", "f16", "Q4_K_M"]))), "gray")
    if command == "push" and draw(st.booleans()):
        _set(case, "--repo", draw(TEXT), "gray")
    case.argv.append("--")  # the RUN after "--", so a name starting with "-" is a name
    case.argv.append(name)
    return case


@st.composite
def other_cases(draw: Any) -> Case:
    command = draw(st.sampled_from(["check", "gpu", "runs", "train", "help"]))
    if command == "check":
        case = Case(["check", "CONFIG"])
        _set(
            case, "--gpu", draw(st.one_of(TEXT, st.sampled_from(["RTX 4090", "24GB", "0GB", "-5GB", "1e9GB"]))), "gray"
        )
    elif command == "gpu":
        case = Case(["gpu", *draw(st.sampled_from([[], ["--json"], ["--list"]]))])
        if draw(st.booleans()):
            _set(case, "--gpu", draw(st.one_of(TEXT, st.sampled_from(["H100", "nan GB", "0GB", "99999999GB"]))), "gray")
    elif command == "runs":
        case = Case(["runs", *draw(st.sampled_from([[], ["--json"]]))])
        _set(case, "--runs-dir", draw(st.one_of(st.just("RUNS"), TEXT)), "gray")
    elif command == "train":
        case = Case(["train", "CONFIG", "--detach"])  # a runs root inside the case's folder, whatever it is
        inside = st.text(alphabet="abc日本 -_.\x00", min_size=1, max_size=12).filter(lambda t: t.strip(" .") != "")
        _set(case, "--runs-dir", draw(st.one_of(st.just("RUNS"), inside, st.just("x" * 3000))), "gray")
    else:
        words = draw(st.sampled_from([["--help"], ["plan", "--help"], ["data", "inspect", "--help"], ["--bogus"]]))
        case = Case(words, {"--bogus": "bad"} if "--bogus" in words else {})
    return case


def _set(case: Case, option: str, token: str, verdict: str) -> None:
    case.argv += [f"{option}={token}"]  # one word: a value starting with "-" stays a value
    case.verdicts[option], case.values[option] = verdict, token


def _maybe_whole(draw: Any, case: Case, option: str, low: int, high: int, good_high: int) -> None:
    if draw(st.booleans()):
        token = draw(st.sampled_from(TOKENS))
        _set(case, option, token, whole_verdict(token, low, high, good_high))


def _maybe_choice(draw: Any, case: Case, option: str, names: list[str]) -> None:
    if draw(st.booleans()):
        token = draw(st.one_of(st.sampled_from(names), TEXT))
        _set(case, option, token, "good" if token in names else "bad")


def _materialize(case: Case, folder: Path) -> list[str]:
    """Put real files where the words say MODEL, DATA, CONFIG and RUNS."""
    model = folder / "model"
    model.mkdir()
    shape = {"model_type": "llama", "hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 2}
    shape |= {"num_hidden_layers": 2, "vocab_size": 1000, "intermediate_size": 128, "max_position_embeddings": 4096}
    (model / "config.json").write_text(json.dumps(shape), encoding="utf-8")
    data = folder / "data.jsonl"
    data.write_text("".join(json.dumps({"text": f"row number {i}"}) + "\n" for i in range(ROWS)), encoding="utf-8")
    config = folder / "run.yaml"
    config.write_text("model: {name_or_path: org/m}\ndataset: {source: data.jsonl}\n", encoding="utf-8")
    (folder / "runs").mkdir()
    where = {"MODEL": str(model), "DATA": str(data), "CONFIG": str(config), "RUNS": str(folder / "runs")}
    return [where.get(word, word.replace("=RUNS", f"={folder / 'runs'}")) for word in case.argv]


def judge(case: Case, outcome: Outcome) -> None:
    if not check_clean(KIND, outcome):
        return
    bad = [option for option, verdict in case.verdicts.items() if verdict == "bad"]
    gray = [option for option, verdict in case.verdicts.items() if verdict == "gray"]
    if bad:
        if expect_exit(KIND, outcome, (2,), f"bad values for {', '.join(bad)}"):
            expect_located(KIND, outcome, bad, "the option at fault")
        return
    if case.run is not None:
        if expect_exit(KIND, outcome, (2,), f"run {case.run!r} does not exist" if not gray else "gray values"):
            expect_located(KIND, outcome, [case.run.strip()[:30] or "run", "RUN", "run", *gray], "the missing run")
        return
    if not expect_exit(KIND, outcome, (0, 2) if gray else (0,), "good values"):
        return
    if outcome.code == 2:
        expect_located(
            KIND, outcome, [*gray, *(case.values[o][:30] for o in gray if case.values[o].strip())], "a value"
        )
        return
    if "--help" in case.argv:
        expect_true(KIND, outcome, "usage:" in outcome.out, "--help without a usage")
    elif case.argv[0] == "plan":
        judge_plan(case, outcome)
    elif case.argv[:2] == ["data", "inspect"]:
        judge_inspect(case, outcome)


def judge_plan(case: Case, outcome: Outcome) -> None:
    report = json.loads(outcome.out)
    methods = report["methods"]
    if "--method" in case.values:
        expect_true(KIND, outcome, list(methods) == [case.values["--method"]], f"plan shows methods {list(methods)}")
    for name, row in methods.items():
        for option, key in (("--micro-batch", "micro_batch"), ("--grad-accum", "grad_accum")):
            if option in case.values and case.verdicts[option] == "good":
                given_value = int(case.values[option])
                expect_true(KIND, outcome, row[key] == given_value, f"{name}: {option} {given_value} became {row[key]}")


def judge_inspect(case: Case, outcome: Outcome) -> None:
    report = json.loads(outcome.out)
    stats = report["stats"]
    for option, key in (("--max-len", "max_length"), ("--micro-batch", "micro_batch"), ("--grad-accum", "grad_accum")):
        if case.verdicts.get(option) == "good":
            wanted = int(case.values[option])
            expect_true(KIND, outcome, stats[key] == wanted, f"{option} {wanted} became {key} {stats[key]}")
    if case.verdicts.get("--row") == "good":
        first = report["rows"]["rows"][0]["index"]
        expect_true(
            KIND, outcome, first == int(case.values["--row"]) - 1, f"--row {case.values['--row']} showed {first + 1}"
        )
    if case.verdicts.get("--eval-size") == "good":
        size = float(case.values["--eval-size"])
        held = 0 if size <= 0 else (max(1, round(size * ROWS)) if size < 1 else int(size))
        expect_true(
            KIND, outcome, report["cleaned"]["eval"] == held, f"--eval-size {size} held {report['cleaned']['eval']}"
        )


def _run(case_dir: Any, case: Case) -> None:
    with case_dir() as folder, working_dir(folder):
        argv = _materialize(case, folder)
        judge(case, run_cli(argv, KIND))


@fuzz_settings(80)
@given(case=plan_cases())
def test_plan_options(case_dir: Any, case: Case) -> None:
    _run(case_dir, case)


@fuzz_settings(70)
@given(case=inspect_cases())
def test_data_inspect_options(case_dir: Any, case: Case) -> None:
    _run(case_dir, case)


@fuzz_settings(60)
@given(case=run_cases())
def test_run_commands_on_runs_that_do_not_exist(case_dir: Any, case: Case) -> None:
    _run(case_dir, case)


@fuzz_settings(40)
@given(case=other_cases())
def test_check_gpu_runs_train_and_help(case_dir: Any, case: Case) -> None:
    _run(case_dir, case)
