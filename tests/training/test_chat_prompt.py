"""How the chat child prompts the model: the training chat template, plain text for text runs, earlier turns
dropped to fit the context, and the stop tokens."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuiapp.core.user_error import UserError
from tuiapp.training.chat_prompt import CHAT, PLAIN, prompt_ids, prompt_mode, stop_token_ids

TURNS = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Name a prime number, please."},
    {"role": "assistant", "content": "Seven is one of them."},
    {"role": "user", "content": "Another?"},
]


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


def test_the_template_is_used_unless_the_run_trained_on_text(tokenizer) -> None:
    assert prompt_mode("messages", tokenizer) == prompt_mode("auto", tokenizer) == CHAT
    assert prompt_mode("text", tokenizer) == PLAIN


def test_a_chat_prompt_ends_where_the_answer_starts(tokenizer) -> None:
    ids, dropped = prompt_ids(tokenizer, TURNS, CHAT, room=500)
    text = tokenizer.decode(ids)
    assert dropped == 0 and text.startswith("<|im_start|>system\nYou are terse.")
    assert text.endswith("<|im_start|>assistant\n")


def test_plain_text_joins_the_turns(tokenizer) -> None:
    ids, _ = prompt_ids(tokenizer, TURNS[1:2], PLAIN, room=500)
    assert tokenizer.decode(ids, skip_special_tokens=True) == "Name a prime number, please."


def test_earlier_turns_are_dropped_to_fit_and_the_system_prompt_stays(tokenizer) -> None:
    full, _ = prompt_ids(tokenizer, TURNS, CHAT, room=500)
    fitted, dropped = prompt_ids(tokenizer, TURNS, CHAT, room=len(full) - 1)
    assert dropped == 2 and len(fitted) < len(full)
    assert "You are terse." in tokenizer.decode(fitted) and "Seven" not in tokenizer.decode(fitted)
    with pytest.raises(UserError, match="lower max new tokens"):
        prompt_ids(tokenizer, TURNS, CHAT, room=3)


def test_a_template_that_refuses_a_system_turn_gets_it_in_the_first_user_turn(tokenizer) -> None:
    strict = tokenizer.__class__.from_pretrained(tokenizer.name_or_path)
    strict.chat_template = (
        "{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('no system turns') }}{% endif %}"
        "<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}<|im_start|>assistant\n"
    )
    ids, _ = prompt_ids(strict, TURNS[:2], CHAT, room=500)
    assert "user\nYou are terse.\n\nName a prime" in strict.decode(ids)


def test_stop_tokens_include_the_end_of_turn(tokenizer) -> None:
    class Model:
        generation_config = type("Config", (), {"eos_token_id": [0, tokenizer.eos_token_id]})()

    assert stop_token_ids(Model(), tokenizer) == [0, tokenizer.eos_token_id]
