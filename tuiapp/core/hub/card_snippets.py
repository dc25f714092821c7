"""The card's "How to use" code: what loads this kind of upload (PEFT for an adapter, transformers for a whole
model, Ollama or llama.cpp for a GGUF), written for the repo it is pushed to."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tuiapp.core.hub.card_facts import CardFacts

BASE_PLACEHOLDER = "path/to/your/copy/of/{name}"  # a base that is not on the Hub: the reader's own folder
PROMPT = "Hello! What can you do?"


def how_to_use(facts: CardFacts) -> str:
    """The "How to use" section's body (markdown with fenced code)."""
    if facts.kind == "gguf":
        return _gguf(facts)
    load = _peft_load(facts) if facts.kind == "adapter" else _transformers_load(facts)
    code = f"{_endpoint_line(facts)}{load}\n\n{_generate(facts)}"
    lead = {
        "adapter": "The adapter loads on top of its base model with PEFT (`pip install peft transformers accelerate`):",
        "full": "A whole model: transformers loads it (`pip install transformers accelerate`):",
        "merged": "The adapter is merged into the base, so transformers loads it alone "
        "(`pip install transformers accelerate`):",
    }[facts.kind]
    text = f"{lead}\n\n```python\n{code}\n```\n"
    if facts.kind == "adapter" and facts.config.method == "qlora":
        text += (
            "\nIt was trained on a 4-bit (NF4) base. To load the base the same way (a CUDA GPU and bitsandbytes), "
            'pass `quantization_config=BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4")` '
            "to `from_pretrained`.\n"
        )
    return text


def _endpoint_line(facts: CardFacts) -> str:
    if facts.endpoint is None:
        return ""
    return f'import os\n\nos.environ["HF_ENDPOINT"] = "{facts.endpoint}"  # this Hub, before importing transformers\n\n'


def _trust(facts: CardFacts) -> str:
    """The training run's trust_remote_code choice, carried into the card's loading code (off: nothing)."""
    return ", trust_remote_code=True" if facts.config.model.trust_remote_code else ""


def _peft_load(facts: CardFacts) -> str:
    repo, trust = facts.repo_id, _trust(facts)
    if facts.base_model is not None:
        return (
            "from peft import AutoPeftModelForCausalLM\n"
            "from transformers import AutoTokenizer\n\n"
            f'model = AutoPeftModelForCausalLM.from_pretrained("{repo}", dtype="auto", device_map="auto"{trust})\n'
            f'tokenizer = AutoTokenizer.from_pretrained("{repo}"{trust})'
        )
    base = BASE_PLACEHOLDER.format(name=facts.base_label)
    return (
        "from peft import PeftModel\n"
        "from transformers import AutoModelForCausalLM, AutoTokenizer\n\n"
        f'base = AutoModelForCausalLM.from_pretrained("{base}", dtype="auto", device_map="auto"{trust})\n'
        f'model = PeftModel.from_pretrained(base, "{repo}")\n'
        f'tokenizer = AutoTokenizer.from_pretrained("{repo}"{trust})'
    )


def _transformers_load(facts: CardFacts) -> str:
    repo, trust = facts.repo_id, _trust(facts)
    return (
        "from transformers import AutoModelForCausalLM, AutoTokenizer\n\n"
        f'model = AutoModelForCausalLM.from_pretrained("{repo}", dtype="auto", device_map="auto"{trust})\n'
        f'tokenizer = AutoTokenizer.from_pretrained("{repo}"{trust})'
    )


def _generate(facts: CardFacts) -> str:
    if facts.has_chat_template:
        return (
            f'messages = [{{"role": "user", "content": "{PROMPT}"}}]\n'
            "inputs = tokenizer.apply_chat_template(\n"
            '    messages, add_generation_prompt=True, return_tensors="pt", return_dict=True\n'
            ").to(model.device)\n"
            "output = model.generate(**inputs, max_new_tokens=128)\n"
            'print(tokenizer.decode(output[0][inputs["input_ids"].shape[1] :], skip_special_tokens=True))'
        )
    return (
        f'inputs = tokenizer("{PROMPT}", return_tensors="pt").to(model.device)\n'
        "output = model.generate(**inputs, max_new_tokens=128)\n"
        "print(tokenizer.decode(output[0], skip_special_tokens=True))"
    )


def quant_label(facts: CardFacts, file_name: str) -> str | None:
    """The quantization a GGUF file holds (Q4_K_M, F16...), from the GGUF action's figures (what it wrote, which
    is F16 when the quantizer was missing) or the file name."""
    quant = facts.action_facts.get("written") or facts.action_facts.get("quant")
    if isinstance(quant, str) and re.fullmatch(r"[A-Za-z0-9_]{1,16}", quant):
        return quant.upper()
    found = re.search(r"[-.]((?:[QqIi]Q?\d[A-Za-z0-9_]*)|[Ff]16|[Bb][Ff]16|[Ff]32)\.gguf$", file_name)
    return found.group(1).upper() if found else None


def _gguf(facts: CardFacts) -> str:
    repo, name = facts.repo_id, facts.repo_id.split("/")[-1].lower()
    files = facts.gguf_files
    tag = quant_label(facts, files[0]) if len(files) == 1 else None
    suffix = f":{tag}" if tag else ""
    parts = []
    if facts.endpoint is None:
        parts.append(
            "With [Ollama](https://ollama.com) (a private repo needs your Ollama key added to your "
            "Hugging Face account first):\n\n"
            f"```sh\nollama run hf.co/{repo}{suffix}\n```\n\n"
            f"With llama.cpp:\n\n```sh\nllama-cli -hf {repo}{suffix}\n```\n"
        )
    if "Modelfile" in facts.files:
        endpoint = f"HF_ENDPOINT={facts.endpoint} " if facts.endpoint else ""
        parts.append(
            "With the Modelfile in this repo (chat template and stop words included):\n\n"
            f"```sh\n{endpoint}hf download {repo} --local-dir {name}\ncd {name}\n"
            f"ollama create {name} -f Modelfile\nollama run {name}\n```\n"
        )
    if not parts:
        parts.append(
            f"```sh\nHF_ENDPOINT={facts.endpoint} hf download {repo} --local-dir {name}\n```\n\n"
            "then load the `.gguf` file with llama.cpp or Ollama.\n"
        )
    return "\n".join(parts)
