"""Rendering rows through the chat template: loss marks match TRL's own masks; lengths match TRL's tokens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

CHAT = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "What is two plus two?"},
    {"role": "assistant", "content": "Four."},
    {"role": "user", "content": "And times three?"},
    {"role": "assistant", "content": "Twelve."},
]
ROWS: dict[str, dict[str, Any]] = {
    "messages": {"messages": CHAT},
    "text": {"text": "The capital of France is Paris."},
    "prompt_completion": {"prompt": "Q: two plus two?\nA:", "completion": " Four."},
    "conversational_prompt_completion": {"prompt": CHAT[:2], "completion": CHAT[2:3]},
    "preference": {"prompt": CHAT[:2], "chosen": CHAT[2:3], "rejected": [{"role": "assistant", "content": "Five."}]},
    "prompt_only": {"prompt": CHAT[:2], "answer": "4"},
}


@pytest.fixture
def tokenizer(tiny_model_dir: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


def test_assistant_marks_equal_transformers_assistant_masks(tokenizer: Any) -> None:
    from tuiapp.training.chat_render import prepare_template, render_row

    report = prepare_template(tokenizer)
    assert (report.source, report.assistant_only, report.problems) == ("tokenizer", True, [])
    rendered = render_row(tokenizer, {"messages": CHAT}, report.assistant_only)
    expected = tokenizer.apply_chat_template(CHAT, return_dict=True, return_assistant_tokens_mask=True)
    assert [learns for _, learns in rendered.pieces] == [bool(m) for m in expected["assistant_masks"]]
    assert "".join(text for text, _ in rendered.pieces) == tokenizer.apply_chat_template(CHAT, tokenize=False)
    learned = "".join(text for text, learns in rendered.pieces if learns)
    assert learned == "Four.<|im_end|>Twelve.<|im_end|>"


def test_completion_marks_match_trl_completion_mask(tokenizer: Any) -> None:
    from trl.data_utils import _tokenize, common_prefix_length

    from tuiapp.training.chat_render import render_row

    for name in ("prompt_completion", "conversational_prompt_completion"):
        row = ROWS[name]
        rendered = render_row(tokenizer, row, assistant_only=True)
        completion = row["completion"] if isinstance(row["prompt"], list) else row["completion"] + tokenizer.eos_token
        kwargs = {"add_generation_prompt": True} if isinstance(row["prompt"], list) else {}
        prompt_ids = _tokenize(tokenizer, row["prompt"], **kwargs)["input_ids"]
        full_ids = _tokenize(tokenizer, row["prompt"] + completion)["input_ids"]
        start = common_prefix_length(prompt_ids, full_ids)
        assert rendered.tokens == len(full_ids), name
        assert [learns for _, learns in rendered.pieces] == [i >= start for i in range(len(full_ids))], name


def test_prompt_only_rows_carry_no_loss_and_text_rows_all(tokenizer: Any) -> None:
    from tuiapp.training.chat_render import render_row

    assert render_row(tokenizer, ROWS["prompt_only"], True).loss_tokens == 0
    text = render_row(tokenizer, ROWS["text"], True)
    assert text.pieces[-1] == (tokenizer.eos_token, True)
    assert text.loss_tokens >= text.tokens - 1


@pytest.mark.parametrize("name", sorted(ROWS))
def test_lengths_equal_the_rendered_row(tokenizer: Any, name: str) -> None:
    from tuiapp.training.chat_render import render_row
    from tuiapp.training.token_lengths import count_lengths

    seen: list[int] = []
    lengths = count_lengths(tokenizer, [ROWS[name]] * 3, batch_size=2, on_progress=seen.append)
    assert seen == [2, 3]
    rendered = render_row(tokenizer, ROWS[name], True).tokens
    if name == "preference":  # the longer of chosen and rejected
        rejected = render_row(tokenizer, {**ROWS[name], "chosen": ROWS[name]["rejected"]}, True).tokens
        rendered = max(rendered, rejected)
    assert lengths == [rendered] * 3


def test_base_model_gets_a_standard_template_and_eos_fix(tokenizer: Any) -> None:
    from tuiapp.training.chat_render import prepare_template, render_row

    tokenizer.chat_template = None
    report = prepare_template(tokenizer, "llama-3")
    assert report.source == "standard:llama-3" and report.assistant_only
    assert tokenizer.eos_token == "<|eot_id|>" and report.problems == []
    assert any("special token" in note for note in report.notes)
    learned = "".join(t for t, learns in render_row(tokenizer, {"messages": CHAT[1:3]}, True).pieces if learns)
    assert learned == "Four.<|eot_id|>"


def test_template_that_does_not_stop_on_eos_is_reported(tokenizer: Any) -> None:
    from tuiapp.training.chat_render import template_problems

    tokenizer.chat_template = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    problems = template_problems(tokenizer)
    assert any("may not learn to stop" in p for p in problems)
    tokenizer.chat_template = "{{ raise_exception('only user turns') }}"
    assert "fails on a plain conversation" in template_problems(tokenizer)[0]
