"""Which base model to fine-tune and how to load it."""

from pydantic import Field, field_validator

from tuiapp.core.config.base import Section
from tuiapp.core.config.choices import AttnImplementation


class ModelSection(Section):
    name_or_path: str = Field(min_length=1)
    """A Hugging Face model id (org/name) or a local folder holding config.json."""

    revision: str | None = None
    """A branch, tag or commit of the model repo; empty means the default branch."""

    trust_remote_code: bool = False
    """Run Python code shipped inside the model repo. Off unless you trust its authors."""

    attn_implementation: AttnImplementation = "sdpa"
    """Attention kernel: sdpa (PyTorch's, the default), flash_attention_2 (needs flash-attn), eager."""

    @field_validator("name_or_path")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("give a Hugging Face model id such as Qwen/Qwen2.5-0.5B or a local folder")
        return value
