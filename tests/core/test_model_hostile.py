"""Hostile model references: a config.json that is huge, deeply nested, not an object, mistyped or of an
impossible shape is refused with a message naming the file and the field (exit 2 in the CLI), never a
RecursionError or a raw pydantic error; a Hub that cannot be reached is said so at once."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from model_shapes import LLAMA
from pydantic import ValidationError

from tuiapp.core.models.config_file import MAX_CONFIG_BYTES, MAX_CONFIG_DEPTH
from tuiapp.core.models.hub_reach import hub_unreachable_reason
from tuiapp.core.models.resolve import ModelResolveError, resolve_model
from tuiapp.core.models.shape import ModelShape


def folder_with(tmp_path: Path, text: str | bytes) -> Path:
    folder = tmp_path / "model"
    folder.mkdir(exist_ok=True)
    path = folder / "config.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return folder


def refused(folder: Path) -> str:
    """The message resolve_model refuses `folder` with (a ModelResolveError, nothing else)."""
    with pytest.raises(ModelResolveError) as caught:
        resolve_model(str(folder))
    message = str(caught.value)
    assert str(folder / "config.json") in message, message
    assert len(message) < 600, message
    return message


def test_a_config_nested_past_pythons_recursion_limit_is_located_not_a_recursion_error(tmp_path: Path) -> None:
    message = refused(folder_with(tmp_path, "[" * 100_000 + "]" * 100_000))
    assert f"nests more than {MAX_CONFIG_DEPTH} levels" in message


def test_nesting_below_the_recursion_limit_but_past_any_real_config_is_refused_too(tmp_path: Path) -> None:
    deep: Any = 1
    for _ in range(MAX_CONFIG_DEPTH + 5):
        deep = {"x": deep}
    message = refused(folder_with(tmp_path, json.dumps({**LLAMA, "rope_scaling": deep})))
    assert "nests more than" in message


def test_a_huge_config_is_refused_after_reading_only_the_cap(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, '{"model_type": "llama", "x": "')
    with (folder / "config.json").open("r+b") as handle:
        handle.truncate(1024**3)  # a 1 GiB (sparse) file: reading it whole would take seconds and a gigabyte
    started = time.perf_counter()
    message = refused(folder)
    assert time.perf_counter() - started < 2
    assert f"larger than {MAX_CONFIG_BYTES // 1024**2} MiB" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[1, 2]", "holds a JSON array, not an object"),
        ('"llama"', "holds a JSON string, not an object"),
        ("null", "holds a JSON null, not an object"),
        ("3", "holds a JSON number, not an object"),
        ('{"hidden_size": 1' + "0" * 5000 + "}", "holds a value JSON cannot read here"),
        (b'{"model_type": "\xff"}', "is not UTF-8 text"),
        ('{"model_type": "llama",', "is not valid JSON"),
    ],
    ids=["array", "string", "null", "number", "5000-digit-number", "not-utf8", "cut-off"],
)
def test_a_config_that_is_not_a_json_object_is_located(tmp_path: Path, text: str | bytes, expected: str) -> None:
    assert expected in refused(folder_with(tmp_path, text))


IMPOSSIBLE_SHAPES = [
    ({"hidden_size": 2, "num_key_value_heads": 4}, "num_attention_heads (4) is more than its hidden_size (2)"),
    ({"hidden_size": 66}, "hidden_size (66) is not a multiple of num_attention_heads (4)"),
    ({"num_hidden_layers": 0}, "num_hidden_layers must be a positive integer, got 0"),
    ({"num_hidden_layers": -3}, "num_hidden_layers must be a positive integer, got -3"),
    ({"num_hidden_layers": 10**9}, "num_hidden_layers is 1000000000, more than the 1,048,576"),
    ({"vocab_size": 0}, "vocab_size must be a positive integer, got 0"),
    ({"num_key_value_heads": 3}, "not a multiple of num_key_value_heads (3)"),
    ({"num_key_value_heads": 8}, "not a multiple of num_key_value_heads (8)"),
    ({"intermediate_size": 0}, "intermediate_size must be a positive integer, got 0"),
    ({"hidden_size": 1e30}, "hidden_size must be a positive integer, got 1e+30"),
    ({"hidden_size": 10**30}, "hidden_size is 1000000000000000000000000000000, more than the 16,777,216"),
    ({"vocab_size": 10**12}, "vocab_size is 1000000000000, more than the 16,777,216"),
    ({"head_dim": 0}, "head_dim must be a positive integer, got 0"),
    ({"num_attention_heads": 0}, "num_attention_heads must be a positive integer, got 0"),
    ({"max_position_embeddings": 2**40}, "max_position_embeddings is 1099511627776, more than"),
]


@pytest.mark.parametrize(("patch", "expected"), IMPOSSIBLE_SHAPES)
def test_an_impossible_shape_names_the_file_and_the_field(tmp_path: Path, patch: dict[str, Any], expected: str) -> None:
    message = refused(folder_with(tmp_path, json.dumps({**LLAMA, **patch})))
    assert expected in message and "validation error" not in message.lower()


WRONG_TYPES = [
    ({"model_type": 5}, "model_type must be a name such as 'llama', got 5"),
    ({"text_config": [1]}, "text_config must be an object of the language model's fields, got a list of 1"),
    ({"tie_word_embeddings": "yes"}, "tie_word_embeddings must be true or false, got 'yes'"),
    ({"attention_bias": "false"}, "attention_bias must be true or false, got 'false'"),
    ({"mlp_bias": 1}, "mlp_bias must be true or false, got 1"),
    ({"model_type": "mistral", "sliding_window": "4096"}, "sliding_window must be a number of tokens or null"),
    ({"model_type": "mistral", "layer_types": [1, 2]}, "layer_types must be a list of names"),
    ({"model_type": "gemma2", "final_logit_softcapping": "30"}, "final_logit_softcapping must be a number"),
    ({"hidden_size": "x" * 10_000}, "hidden_size must be a positive integer, got a str of 10000"),
]


@pytest.mark.parametrize(("patch", "expected"), WRONG_TYPES)
def test_a_mistyped_field_is_refused_not_read_as_something_else(
    tmp_path: Path, patch: dict[str, Any], expected: str
) -> None:
    assert expected in refused(folder_with(tmp_path, json.dumps({**LLAMA, **patch})))


def test_mistyped_expert_layers_are_refused_and_many_layers_are_counted_quickly(tmp_path: Path) -> None:
    moe = {**LLAMA, "model_type": "qwen2_moe", "architectures": ["Qwen2MoeForCausalLM"], "num_experts": 4}
    moe |= {"num_experts_per_tok": 2, "moe_intermediate_size": 32}
    assert "mlp_only_layers must be a list of layer numbers" in refused(
        folder_with(tmp_path, json.dumps({**moe, "mlp_only_layers": ["a"]}))
    )
    started = time.perf_counter()  # a million layers against a long list: indexed once, not searched per layer
    wide = {**moe, "num_hidden_layers": 2**20, "mlp_only_layers": list(range(0, 20_000, 2))}
    shape = ModelShape.from_hf_config(wide, name="wide")
    assert time.perf_counter() - started < 5 and shape.dense_mlp_layers == 10_000


def test_a_shape_bound_only_the_model_checks_still_names_the_config_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from tuiapp.core.models import families, shape

    fields = families.read_family_fields(LLAMA)
    monkeypatch.setattr(shape, "read_family_fields", lambda config: {**fields, "num_layers": 0})
    with pytest.raises(families.UnsupportedModelError, match=r"config\.json's num_hidden_layers gives an impossible"):
        try:
            ModelShape.from_hf_config(LLAMA, name="x")
        except ValidationError as exc:  # what today's code leaked
            pytest.fail(f"a raw validation error: {exc}")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_no_network_is_said_at_once_with_offline_mode_and_a_local_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub
    from huggingface_hub import constants

    def no_download(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("huggingface_hub retries a dead network for ~25 s: it must not be asked")

    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", lambda *a, **k: None)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", no_download)
    started = time.perf_counter()
    with pytest.raises(ModelResolveError) as caught:
        resolve_model("someone/not-a-cached-model")
    message = str(caught.value)
    assert time.perf_counter() - started < 5
    assert "cannot reach the Hugging Face Hub" in message and "HF_HUB_OFFLINE=1" in message
    assert "give a local folder" in message and "someone/not-a-cached-model" in message


def test_the_reachability_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert hub_unreachable_reason(f"http://127.0.0.1:{server.getsockname()[1]}") is None
    refused_reason = hub_unreachable_reason(f"http://127.0.0.1:{closed_port()}")
    assert refused_reason is not None and "127.0.0.1" in refused_reason
    assert "cannot be looked up" in (hub_unreachable_reason("https://no-such-host.invalid") or "")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")  # only the proxy knows: let the library ask
    assert hub_unreachable_reason("https://no-such-host.invalid") is None


@pytest.mark.parametrize(
    "reference",
    ["x" * 5000, "./" + "x" * 5000, "org/na\0me", "a" * 300 + "/" + "b" * 300],
    ids=["5000", "path-5000", "nul", "long-id"],
)
def test_a_reference_the_file_system_cannot_look_up_is_refused_in_a_short_message(reference: str) -> None:
    with pytest.raises(ModelResolveError) as caught:
        resolve_model(reference)
    message = str(caught.value)
    assert len(message) < 600 and reference[:30].replace("\0", "") in message.replace("\\x00", "")
