"""The Ollama Modelfile: each chat family's TEMPLATE renders what the family's Jinja template renders (checked
with a small Go-template renderer), detection by markers, stop lines, SYSTEM quoting, and the file parsing
back the way Ollama's parser reads it."""

from __future__ import annotations

import pytest
from go_template import render

from tuiapp.core.ollama_modelfile import (
    CHATML,
    FAMILIES,
    GEMMA,
    LLAMA2,
    LLAMA3,
    MISTRAL,
    PHI3,
    build_modelfile,
    detect_family,
)
from tuiapp.training.tiny_model import CHAT_TEMPLATE

# Jinja templates as the families' tokenizer_config.json files write them (shortened to the parts with markers).
JINJA = {
    "llama3": "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + "
    "'<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}",
    "gemma": "{{ bos_token }}{% for message in messages %}{% set role = 'model' if message['role'] == 'assistant' "
    "else message['role'] %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}",
    "phi3": "{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\n' + message['content'] + "
    "'<|end|>\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}"
    "{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}",
    "chatml": CHAT_TEMPLATE,
    "llama2": "{% for message in messages %}{% if loop.index0 == 0 and system_message %}{% set content = '<<SYS>>\\n' "
    "+ system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% endif %}{% if message['role'] == 'user' %}"
    "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
    "{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}",
    "mistral": "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}"
    "{{ '[INST] ' + message['content'] + '[/INST]' }}{% elif message['role'] == 'assistant' %}"
    "{{ ' ' + message['content'] + eos_token }}{% endif %}{% endfor %}",
}
SYSTEM = "Be brief."
TURNS = [("user", "Hi"), ("assistant", "Hello!"), ("user", "2+2?")]
# What each family's Hugging Face template renders for SYSTEM + TURNS with the generation prompt (less BOS,
# which llama.cpp adds itself).
EXPECTED = {
    "chatml": "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
    "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n",
    "llama3": "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
    "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
    "Hello!<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|>"
    "<|start_header_id|>assistant<|end_header_id|>\n\n",
    "gemma": "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n"
    "<start_of_turn>user\n2+2?<end_of_turn>\n<start_of_turn>model\n",
    "phi3": "<|system|>\nBe brief.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\nHello!<|end|>\n"
    "<|user|>\n2+2?<|end|>\n<|assistant|>\n",
    "llama2": "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] 2+2? [/INST]",
    "mistral": "[INST] Hi[/INST] Hello!</s>[INST] Be brief.\n\n2+2?[/INST]",
}
NO_SYSTEM = {
    "chatml": EXPECTED["chatml"].removeprefix("<|im_start|>system\nBe brief.<|im_end|>\n"),
    "llama3": EXPECTED["llama3"].removeprefix("<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"),
    "gemma": EXPECTED["gemma"].replace("Be brief.\n\n", ""),
    "phi3": EXPECTED["phi3"].removeprefix("<|system|>\nBe brief.<|end|>\n"),
    "llama2": "[INST] Hi [/INST] Hello! </s><s>[INST] 2+2? [/INST]",
    "mistral": "[INST] Hi[/INST] Hello!</s>[INST] 2+2?[/INST]",
}


def ollama_data(system: str, system_in_messages: bool) -> dict:
    """What Ollama hands a template: .System, and .Messages (recent versions keep system messages in it)."""
    messages = [{"Role": role, "Content": content} for role, content in TURNS]
    if system and system_in_messages:
        messages.insert(0, {"Role": "system", "Content": system})
    return {"System": system, "Messages": messages}


def parse_modelfile(text: str) -> list[tuple[str, str]]:
    """Commands as Ollama's parser reads them: a value runs to the first line end where it is whole
    (unquoted, "...", or \"\"\"...\"\"\"), quotes removed, no escapes; `#` lines are comments."""
    commands: list[tuple[str, str]] = []
    lines = text.split("\n")
    at = 0
    while at < len(lines):
        line = lines[at].strip()
        at += 1
        if not line or line.startswith("#"):
            continue
        name, _, value = line.partition(" ")
        if name.lower() == "parameter":
            key, _, value = value.partition(" ")
            name = key
        value = value.lstrip()
        while not _whole(value.strip()):
            assert at < len(lines), f"unterminated value for {name}"
            value += "\n" + lines[at]
            at += 1
        commands.append((name.lower(), _unquote(value.strip())))
    return commands


def _whole(value: str) -> bool:
    if value.startswith('"""'):
        return len(value) >= 6 and value.endswith('"""')
    if value.startswith('"'):
        return len(value) >= 2 and value.endswith('"')
    return True


def _unquote(value: str) -> str:
    if value.startswith('"""'):
        return value[3:-3]
    return value[1:-1] if value.startswith('"') else value


@pytest.mark.parametrize("name", sorted(JINJA))
def test_each_family_is_detected_from_its_jinja_markers(name: str) -> None:
    family = detect_family(JINJA[name])
    assert family is not None and family.name == name


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
@pytest.mark.parametrize("system_in_messages", [True, False], ids=["ollama-new", "ollama-old"])
def test_template_renders_the_familys_format(family, system_in_messages: bool) -> None:
    assert render(family.template, ollama_data(SYSTEM, system_in_messages)) == EXPECTED[family.name]
    assert render(family.template, ollama_data("", system_in_messages)) == NO_SYSTEM[family.name]


def test_chatml_template_renders_exactly_what_the_tiny_models_jinja_renders() -> None:
    from jinja2 import Environment, nodes
    from jinja2.ext import Extension

    class Generation(Extension):  # transformers' {% generation %} tag, here a plain block
        tags = {"generation"}

        def parse(self, parser):
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            return nodes.Scope(body).set_lineno(lineno)

    jinja = Environment(extensions=[Generation]).from_string(CHAT_TEMPLATE)
    messages = [{"role": "system", "content": SYSTEM}] + [{"role": r, "content": c} for r, c in TURNS]
    expected = jinja.render(messages=messages, add_generation_prompt=True)
    assert render(CHATML.template, ollama_data(SYSTEM, True)) == expected == EXPECTED["chatml"]


@pytest.mark.parametrize(
    "template",
    [
        "{% for m in messages %}### Instruction:\n{{ m['content'] }}\n\n### Response:\n{% endfor %}",  # Alpaca
        "{% for m in messages %}<|im_start|>{{ m['role'] }}<|im_sep|>{{ m['content'] }}<|im_end|>{% endfor %}",  # Phi-4
        "{% for m in messages %}<|user|>\n{{ m['content'] }}</s>\n<|assistant|>\n{% endfor %}",  # Zephyr
    ],
    ids=["alpaca", "phi4", "zephyr"],
)
def test_unknown_template_gets_no_template_line_a_comment_and_a_note(template: str) -> None:
    assert detect_family(template) is None
    modelfile = build_modelfile("m-Q8_0.gguf", template, ["</s>"])
    commands = parse_modelfile(modelfile.text)
    assert [name for name, _ in commands] == ["from", "stop"]
    assert "does not know this chat template" in modelfile.text
    assert modelfile.family is None and any("not one ftwizard translates" in note for note in modelfile.notes)


def test_no_chat_template_sends_the_prompt_as_it_is() -> None:
    modelfile = build_modelfile("m-F16.gguf", None, [])
    assert ("template", "{{ .Prompt }}") in parse_modelfile(modelfile.text)
    assert modelfile.notes and "plain completion" in modelfile.notes[0]


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_modelfile_parses_back_to_from_template_stops_and_system(family) -> None:
    system = 'You answer "briefly".\nTwo lines,  two  spaces, a "quote" at the end"'
    modelfile = build_modelfile(
        "run-Q8_0.gguf",
        JINJA[family.name],
        ["<|im_end|>", "</s>"],
        system=system,
        create_command="ollama create run -f Modelfile",
    )
    commands = parse_modelfile(modelfile.text)
    assert commands[0] == ("from", "./run-Q8_0.gguf")
    assert ("template", family.template) in commands
    stops = [value for name, value in commands if name == "stop"]
    assert stops == list(dict.fromkeys([*family.stops, "<|im_end|>", "</s>"]))
    assert ("system", system) in commands
    assert "# In this folder: ollama create run -f Modelfile" in modelfile.text


def test_system_prompt_with_triple_quotes_is_written_readably_with_a_note() -> None:
    modelfile = build_modelfile("m.gguf", CHAT_TEMPLATE, [], system='Say """hi""" please')
    assert ("system", "Say '''hi''' please") in parse_modelfile(modelfile.text)
    assert any('"""' in note for note in modelfile.notes)


def test_stop_tokens_with_spaces_or_quotes_are_quoted_whole() -> None:
    modelfile = build_modelfile("m.gguf", None, ["END OF TURN", 'say "stop"', 'bad """ one'])
    stops = [value for name, value in parse_modelfile(modelfile.text) if name == "stop"]
    assert stops == ["END OF TURN", 'say "stop"']  # one holding """ cannot be written and is left out


@pytest.mark.parametrize("family", [CHATML, LLAMA3, GEMMA, PHI3, LLAMA2, MISTRAL], ids=lambda f: f.name)
def test_family_stops_include_its_end_of_turn_marker(family) -> None:
    end_of_turn = {
        "chatml": "<|im_end|>",
        "llama3": "<|eot_id|>",
        "gemma": "<end_of_turn>",
        "phi3": "<|end|>",
        "llama2": "[INST]",
        "mistral": "[INST]",
    }[family.name]
    assert end_of_turn in family.stops
