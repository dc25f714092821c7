"""What a saved model folder says about its chat format, read from its JSON files without loading a tokenizer:
the chat template and the tokens that end a turn (for an Ollama Modelfile's TEMPLATE and stop lines).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MAX_JSON_BYTES = 64 * 1024**2  # a tokenizer.json with a 256k vocabulary is ~20 MB


def _json(path: Path) -> dict[str, Any]:
    """The object in `path`, or {} when it is missing, too large or not JSON (the caller falls back)."""
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def chat_template_of(folder: Path) -> str | None:
    """The folder's chat template: chat_template.jinja (transformers 5), else tokenizer_config.json's
    `chat_template` (a string, or a list of named ones: the default), else chat_template.json's."""
    jinja = folder / "chat_template.jinja"
    try:
        if jinja.is_file():
            return jinja.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    for source in (_json(folder / "tokenizer_config.json"), _json(folder / "chat_template.json")):
        template = source.get("chat_template")
        if isinstance(template, str):
            return template
        if isinstance(template, list):
            named = {t.get("name"): t.get("template") for t in template if isinstance(t, dict)}
            default = named.get("default") or next(iter(named.values()), None)
            if isinstance(default, str):
                return default
    return None


def _token_text(entry: Any) -> str | None:
    """A special token as tokenizer_config.json writes it: a string, or {"content": ...}."""
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and isinstance(entry.get("content"), str):
        return entry["content"]
    return None


def _id_to_text(tokenizer_json: dict[str, Any]) -> dict[int, str]:
    """Token ids to their text: the added (special) tokens, then the model's vocabulary."""
    found: dict[int, str] = {}
    model = tokenizer_json.get("model")
    vocab = model.get("vocab") if isinstance(model, dict) else None
    if isinstance(vocab, dict):  # BPE, WordPiece, WordLevel: {text: id}
        found.update({i: text for text, i in vocab.items() if isinstance(i, int)})
    elif isinstance(vocab, list):  # Unigram: [[text, score], ...] by id
        found.update({i: entry[0] for i, entry in enumerate(vocab) if isinstance(entry, list) and entry})
    for added in tokenizer_json.get("added_tokens") or []:
        if isinstance(added, dict) and isinstance(added.get("id"), int) and isinstance(added.get("content"), str):
            found[added["id"]] = added["content"]
    return found


def end_tokens_of(folder: Path) -> list[str]:
    """The texts of the tokens that end generation: the tokenizer's EOS and generation_config.json's
    eos_token_id(s) (often the end-of-turn token as well as the end of text), in that order, without repeats."""
    config = _json(folder / "tokenizer_config.json")
    ends: list[str] = []
    eos = _token_text(config.get("eos_token"))
    if eos:
        ends.append(eos)
    ids = _json(folder / "generation_config.json").get("eos_token_id")
    id_list = [ids] if isinstance(ids, int) else [i for i in ids if isinstance(i, int)] if isinstance(ids, list) else []
    if id_list:
        texts = _id_to_text(_json(folder / "tokenizer.json"))
        ends.extend(texts[i] for i in id_list if i in texts)
    bos = _token_text(config.get("bos_token"))
    unique = [text for i, text in enumerate(ends) if text and text not in ends[:i] and text != bos]
    return unique[:8]


def bos_unsaid(folder: Path) -> bool:
    """True when the tokenizer adds no BOS token (tokenizer.json's post-processor puts nothing before the text)
    and tokenizer_config.json does not say so (transformers 5 leaves add_bos_token out). llama.cpp's converter
    then writes no add_bos_token, and llama.cpp adds a BOS to a SentencePiece model's every prompt."""
    if "add_bos_token" in _json(folder / "tokenizer_config.json"):
        return False
    tokenizer = _json(folder / "tokenizer.json")
    if not tokenizer:
        return False
    post = tokenizer.get("post_processor")
    if post is None:
        return True
    steps = post.get("processors", [post]) if isinstance(post, dict) else []
    templates = [s for s in steps if isinstance(s, dict) and s.get("type") == "TemplateProcessing"]
    if not templates:
        return False  # another kind of post-processor: leave the choice to llama.cpp
    single = templates[0].get("single") or []
    return not (single and isinstance(single[0], dict) and "SpecialToken" in single[0])
