"""An Ollama Modelfile for a GGUF: the Hugging Face chat template (Jinja) translated to Ollama's TEMPLATE
(Go text/template) for the families we know, found by their markers; stop lines from the family's turn
markers and the tokenizer's end tokens; SYSTEM when there is a system prompt. Pure text.

Ollama hands a template `.System` (every system message, joined, or the Modelfile's SYSTEM) and `.Messages`
(recent versions keep the system messages in it too, older ones drop them: the templates skip them there
and write `.System` once). BOS is not written: llama.cpp adds it when the GGUF says the model wants it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SYSTEM_MAX_CHARS = 20_000


@dataclass(frozen=True)
class ChatFamily:
    """A chat format: the Jinja markers that identify it, its Ollama template and its turn-ending strings."""

    name: str
    label: str
    markers: tuple[str, ...]  # all of them appear in the family's Jinja template
    template: str
    stops: tuple[str, ...]
    absent: tuple[str, ...] = ()  # none of them appears (a look-alike family has it)


CHATML = ChatFamily(
    "chatml",
    "ChatML (Qwen, SmolLM, ftwizard's demo model)",
    ("<|im_start|>", "<|im_end|>"),
    "{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}\n"
    '{{- range .Messages }}\n{{- if ne .Role "system" }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}\n'
    "{{- end }}<|im_start|>assistant\n",
    ("<|im_start|>", "<|im_end|>"),
    absent=("<|im_sep|>",),  # Phi-4's ChatML variant puts <|im_sep|> after the role
)
LLAMA3 = ChatFamily(
    "llama3",
    "Llama 3",
    ("<|start_header_id|>", "<|eot_id|>"),
    "{{- if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>\n{{- end }}\n"
    '{{- range .Messages }}\n{{- if ne .Role "system" }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n'
    "{{ .Content }}<|eot_id|>\n{{- end }}\n{{- end }}<|start_header_id|>assistant<|end_header_id|>\n\n",
    ("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"),
)
GEMMA = ChatFamily(
    "gemma",
    "Gemma",
    ("<start_of_turn>", "<end_of_turn>"),
    # Gemma has no system turn: the system prompt opens the first user turn, as Gemma 3's template does.
    "{{- $system := .System }}\n{{- range .Messages }}\n"
    '{{- if eq .Role "user" }}<start_of_turn>user\n{{ if $system }}{{ $system }}\n\n{{ $system = "" }}{{ end }}'
    "{{ .Content }}<end_of_turn>\n"
    '{{ else if eq .Role "assistant" }}<start_of_turn>model\n{{ .Content }}<end_of_turn>\n{{ end }}\n'
    "{{- end }}<start_of_turn>model\n",
    ("<start_of_turn>", "<end_of_turn>"),
)
PHI3 = ChatFamily(
    "phi3",
    "Phi-3",
    ("<|user|>", "<|assistant|>", "<|end|>"),  # Zephyr has <|user|> too but ends turns with </s>
    "{{- if .System }}<|system|>\n{{ .System }}<|end|>\n{{ end }}\n"
    '{{- range .Messages }}\n{{- if ne .Role "system" }}<|{{ .Role }}|>\n{{ .Content }}<|end|>\n{{ end }}\n'
    "{{- end }}<|assistant|>\n",
    ("<|end|>", "<|user|>", "<|assistant|>"),
)
LLAMA2 = ChatFamily(
    "llama2",
    "Llama 2 ([INST] with <<SYS>>)",
    ("[INST]", "<<SYS>>"),
    "{{- $system := .System }}\n{{- range .Messages }}\n"
    '{{- if eq .Role "user" }}[INST] {{ if $system }}<<SYS>>\n{{ $system }}\n<</SYS>>\n\n{{ $system = "" }}{{ end }}'
    '{{ .Content }} [/INST]\n{{- else if eq .Role "assistant" }} {{ .Content }} </s><s>\n{{- end }}\n{{- end }}',
    ("[INST]", "[/INST]", "<<SYS>>", "<</SYS>>"),
)
MISTRAL = ChatFamily(
    "mistral",
    "Mistral ([INST])",
    ("[INST]",),
    # The system prompt goes into the last user turn, as Mistral's own templates place it.
    "{{- range $i, $_ := .Messages }}\n"
    '{{- if eq .Role "user" }}[INST] '
    "{{ if and $.System (eq (len (slice $.Messages $i)) 1) }}{{ $.System }}\n\n{{ end }}"
    '{{ .Content }}[/INST]\n{{- else if eq .Role "assistant" }} {{ .Content }}</s>\n{{- end }}\n{{- end }}',
    ("[INST]", "[/INST]"),
)
FAMILIES = (LLAMA3, GEMMA, PHI3, CHATML, LLAMA2, MISTRAL)  # checked in this order


def detect_family(chat_template: str | None) -> ChatFamily | None:
    """The family whose markers the Jinja template holds, or None (no template, or one we do not know)."""
    if not chat_template:
        return None
    for family in FAMILIES:
        if all(m in chat_template for m in family.markers) and not any(a in chat_template for a in family.absent):
            return family
    return None


@dataclass(frozen=True)
class Modelfile:
    """The Modelfile's text, the family its TEMPLATE came from (None: no TEMPLATE line) and notes for the user."""

    text: str
    family: ChatFamily | None
    notes: list[str] = field(default_factory=list)


def _quoted(text: str) -> str | None:
    """`text` as a Modelfile argument: "..." for a plain word, \"\"\"...\"\"\" otherwise (the format has no
    escapes: a value ends at the first quote mark that closes it); None when `text` holds \"\"\"."""
    if '"""' in text:
        return None
    plain = text and not any(c == '"' or c.isspace() for c in text)
    return f'"{text}"' if plain else f'"""{text}"""'


def build_modelfile(
    gguf_name: str,
    chat_template: str | None,
    end_tokens: list[str],
    system: str | None = None,
    heading: str = "Ollama Modelfile written by ftwizard",
    create_command: str | None = None,
) -> Modelfile:
    """The Modelfile for `./gguf_name` (beside it): FROM, TEMPLATE (a known family), PARAMETER stop, SYSTEM."""
    family = detect_family(chat_template)
    notes: list[str] = []
    lines = [f"# {heading}"]
    if create_command:
        lines.append(f"# In this folder: {create_command}")
    lines.append(f"FROM ./{gguf_name}")
    if family is not None:
        lines.append(f"# TEMPLATE: the model's chat template ({family.label}) in Ollama's template syntax")
        lines.append(f'TEMPLATE """{family.template}"""')
    elif chat_template:
        lines.append("# ftwizard does not know this chat template, so there is no TEMPLATE line: Ollama matches the")
        lines.append(
            "# GGUF's tokenizer.chat_template against the templates it knows (else it sends prompts as they are)."
        )
        notes.append(
            "the chat template is not one ftwizard translates (ChatML, Llama 3, Llama 2, Mistral, Gemma, Phi-3): the "
            "Modelfile has no TEMPLATE, so Ollama picks one from the GGUF's tokenizer.chat_template; check that "
            "`ollama run` answers in the right format, or add a TEMPLATE line"
        )
    else:
        lines.append("# The model has no chat template: prompts reach it as they are written.")
        lines.append('TEMPLATE """{{ .Prompt }}"""')
        notes.append("the model has no chat template: the Modelfile sends prompts to it as they are (plain completion)")
    for stop in dict.fromkeys(s for s in [*(family.stops if family else ()), *end_tokens] if s):
        argument = _quoted(stop)
        if argument is not None:
            lines.append(f"PARAMETER stop {argument}")
    if system and system.strip():
        text = system.strip()[:SYSTEM_MAX_CHARS]
        if '"""' in text:  # a Modelfile cannot hold it: a visible stand-in rather than a broken file
            text = text.replace('"""', "'''")
            notes.append("the system prompt holds \"\"\", which a Modelfile cannot: it was written with ''' instead")
        lines.append(f'SYSTEM """{text}"""')
    return Modelfile("\n".join(lines) + "\n", family, notes)
