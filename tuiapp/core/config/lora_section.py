"""LoRA adapter settings (ignored by a full fine-tune)."""

from pydantic import Field, field_validator

from tuiapp.core.config.base import Section
from tuiapp.core.config.bounds import within


class LoraSection(Section):
    r: int = Field(default=16, **within("lora.r"))
    """Rank of the adapter matrices: more capacity and memory as it grows (8-64 is usual)."""

    alpha: int = Field(default=32, **within("lora.alpha"))
    """Scaling numerator: the update is multiplied by alpha / r (or alpha / sqrt(r) with rsLoRA)."""

    dropout: float = Field(default=0.05, ge=0.0, lt=1.0)
    """Dropout on the adapter input during training, between 0 and 1."""

    target_modules: list[str] | str = "all-linear"
    """Modules to adapt: "all-linear", or a list of names such as [q_proj, k_proj, v_proj, o_proj]."""

    use_dora: bool = False
    """DoRA: decompose weights into magnitude and direction; a little better, slower and larger."""

    use_rslora: bool = False
    """rsLoRA: scale by alpha / sqrt(r), which keeps high ranks stable."""

    @field_validator("target_modules")
    @classmethod
    def _targets(cls, value: list[str] | str) -> list[str] | str:
        if isinstance(value, str):
            if value != "all-linear":
                raise ValueError('use "all-linear" or a list of module names such as [q_proj, v_proj]')
            return value
        names = [name.strip() for name in value]
        if not names or any(not name for name in names):
            raise ValueError('list at least one module name, or use "all-linear"')
        return names
