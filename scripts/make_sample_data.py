"""Write the example datasets in tuiapp/sample_data from the hand-written content in sample_content.py.

Deterministic (fixed seeds), so running it again rewrites the same files. The Parquet copy of alpaca.json
comes from make_sample_parquet.py (it needs pyarrow). Run: python scripts/make_sample_data.py
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any

from sample_content import CAPITALS, GLOSSARY, SYSTEM_PROMPTS, Task, tasks, word_problem

OUT = Path(__file__).resolve().parents[1] / "tuiapp" / "sample_data"


def _function(name: str, description: str, argument: str, about: str) -> dict[str, Any]:
    properties = {argument: {"type": "string", "description": about}}
    parameters = {"type": "object", "properties": properties, "required": [argument]}
    return {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}


CALCULATOR = _function("calculator", "Evaluate an arithmetic expression.", "expression", "for example 12 * (3 + 4)")
WEATHER = _function("get_weather", "The current weather in a city.", "city", "the city's name, for example Lima")


def _call(number: int, name: str, **arguments: str) -> dict[str, Any]:
    return {"id": f"call_{number}", "type": "function", "function": {"name": name, "arguments": arguments}}


def _tool(number: int, name: str, content: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": f"call_{number}", "name": name, "content": content}


def tool_rows() -> list[dict[str, Any]]:
    """Conversations where the assistant calls a tool (arguments as a dict, as chat templates expect)."""
    rain, sun, cold = (
        '{"temperature_c": 4, "condition": "light rain"}',
        '{"temperature_c": 19, "condition": "sunny"}',
        ('{"temperature_c": -6, "condition": "snow"}'),
    )
    return [
        {
            "messages": [
                {"role": "user", "content": "What is 1234 × 5678?"},
                {"role": "assistant", "content": "", "tool_calls": [_call(1, "calculator", expression="1234 * 5678")]},
                _tool(1, "calculator", "7006652"),
                {"role": "assistant", "content": "1234 × 5678 = 7,006,652."},
            ],
            "tools": [CALCULATOR],
        },
        {
            "messages": [
                {"role": "system", "content": "You are a helpful assistant with access to tools."},
                {"role": "user", "content": "Do I need an umbrella in Oslo today?"},
                {"role": "assistant", "content": "", "tool_calls": [_call(1, "get_weather", city="Oslo")]},
                _tool(1, "get_weather", rain),
                {"role": "assistant", "content": "Yes: it is 4 °C with light rain in Oslo right now."},
            ],
            "tools": [WEATHER, CALCULATOR],
        },
        {
            "messages": [
                {"role": "user", "content": "Which is warmer right now, Lima or Helsinki?"},
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [_call(1, "get_weather", city="Lima"), _call(2, "get_weather", city="Helsinki")],
                },
                _tool(1, "get_weather", sun),
                _tool(2, "get_weather", cold),
                {
                    "role": "assistant",
                    "content": "Lima, by 25 degrees: it is 19 °C and sunny there, −6 °C in Helsinki.",
                },
            ],
            "tools": [WEATHER],
        },
    ]


def prompt_of(task: Task) -> str:
    """The instruction and its input as one user message."""
    return f"{task.instruction}\n\n{task.input}" if task.input else task.instruction


def chat(task: Task, system: str | None, answer: str, *, follow: bool) -> list[dict[str, str]]:
    turns = [{"role": "system", "content": system}] if system else []
    turns += [{"role": "user", "content": prompt_of(task)}, {"role": "assistant", "content": answer}]
    if follow and task.follow_up:
        turns += [{"role": "user", "content": task.follow_up[0]}, {"role": "assistant", "content": task.follow_up[1]}]
    return turns


def system_for(index: int) -> str | None:
    """A system turn in every third row, the prompts taking turns."""
    return SYSTEM_PROMPTS[index // 3 % len(SYSTEM_PROMPTS)] if index % 3 == 0 else None


def write_jsonl(name: str, rows: list[dict[str, Any]]) -> None:
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    (OUT / name).write_text(text, encoding="utf-8")


def write_json(name: str, rows: list[dict[str, Any]]) -> None:
    (OUT / name).write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def alpaca(rows: list[Task]) -> list[dict[str, str]]:
    return [{"instruction": t.instruction, "input": t.input, "output": t.output} for t in rows]


def write_csv(name: str, rows: list[dict[str, str]]) -> None:
    with (OUT / name).open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def text_lines(seed: int) -> list[str]:
    """One fact or worked example per line, for the plain-text example."""
    lines = [f"{capital} is the capital of {country}, in {continent}." for country, capital, continent, _ in CAPITALS]
    lines += [f"In machine learning, {term} means {meaning}." for term, meaning in GLOSSARY]
    rng = random.Random(seed)
    lines += [f"{question} {working}" for question, _, working in (word_problem(rng) for _ in range(24))]
    random.Random(seed).shuffle(lines)
    return lines


def grpo_rows(seed: int, count: int) -> list[dict[str, str]]:
    """Word problems with the numeric answer in its own column, for a reward function to compare."""
    rng, rows, seen = random.Random(seed), [], set()
    while len(rows) < count:
        question, answer, _ = word_problem(rng)
        if question not in seen:
            seen.add(question)
            rows.append({"prompt": question, "answer": str(answer)})
    return rows


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    instructions = alpaca(tasks(1, 80))
    write_json("alpaca.json", instructions)
    write_csv("alpaca.csv", instructions[:50])
    write_jsonl("prompt_completion.jsonl", [{"prompt": prompt_of(t), "completion": t.output} for t in tasks(2, 60)])
    messages = [{"messages": chat(t, system_for(i), t.output, follow=i % 2 == 0)} for i, t in enumerate(tasks(3, 57))]
    for position, row in zip((4, 20, 41), tool_rows(), strict=True):
        messages.insert(position, row)
    write_jsonl("messages.jsonl", messages)
    sharegpt = []
    for i, task in enumerate(tasks(4, 50)):
        names = {"system": "system", "user": "human", "assistant": "gpt"}
        turns = chat(task, system_for(i + 1), task.output, follow=i % 3 != 2)
        sharegpt.append({"conversations": [{"from": names[t["role"]], "value": t["content"]} for t in turns]})
    write_json("sharegpt.json", sharegpt)
    (OUT / "text.txt").write_text("".join(line + "\n" for line in text_lines(5)), encoding="utf-8")
    paragraphs = [f"Question: {prompt_of(t)}\nAnswer: {t.output}" for t in tasks(6, 50)]
    write_jsonl("plain_text.jsonl", [{"text": text} for text in paragraphs])
    pairs = tasks(7, 50)
    write_jsonl(
        "preference.jsonl", [{"prompt": prompt_of(t), "chosen": t.output, "rejected": t.bad_output} for t in pairs]
    )
    implicit = [
        {
            "chosen": chat(t, system_for(i), t.output, follow=False),
            "rejected": chat(t, system_for(i), t.bad_output, follow=False),
        }
        for i, t in enumerate(tasks(8, 40))
    ]
    write_jsonl("preference_messages.jsonl", implicit)
    kto = [
        {"prompt": prompt_of(t), "completion": t.output if i % 2 == 0 else t.bad_output, "label": i % 2 == 0}
        for i, t in enumerate(tasks(9, 60))
    ]
    write_jsonl("kto.jsonl", kto)
    write_jsonl("grpo_math.jsonl", grpo_rows(10, 60))
    for path in sorted(OUT.iterdir()):
        print(f"{path.stat().st_size:>8,}  {path.relative_to(OUT.parents[1])}")


if __name__ == "__main__":
    main()
