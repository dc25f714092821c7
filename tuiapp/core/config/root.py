"""FTConfig: the one validated, frozen config that screens edit, the planner reads and the worker runs."""

from typing import Literal

from pydantic import Field, model_validator

from tuiapp.core.config.base import Section
from tuiapp.core.config.choices import Framework, Method, Task
from tuiapp.core.config.cross_fields import CrossFieldError, cross_field_problems, flat_values
from tuiapp.core.config.dataset_section import DatasetSection
from tuiapp.core.config.debug_section import DebugSection
from tuiapp.core.config.lora_section import LoraSection
from tuiapp.core.config.model_section import ModelSection
from tuiapp.core.config.output_section import OutputSection
from tuiapp.core.config.training_section import TrainingSection

SCHEMA_VERSION = 1


class FTConfig(Section):
    """A complete fine-tuning job: model, method, data, hyperparameters and where results go."""

    schema_version: Literal[1] = SCHEMA_VERSION
    """Version of this file's layout; ftwizard upgrades older files when it reads them."""

    model: ModelSection
    """The base model."""

    task: Task = "sft"
    """sft (instruction tuning), dpo / orpo / kto (preferences), grpo (RL with reward functions)."""

    method: Method = "lora"
    """full (all weights), lora (adapter on a 16-bit base), qlora (adapter on a 4-bit base), lora8."""

    framework: Framework = "hf"
    """hf = transformers + PEFT + TRL; unsloth = Unsloth's kernels (CUDA GPUs); axolotl = Axolotl's own trainer,
    run from its own environment with our config exported to its YAML (sft; see axolotl_command)."""

    axolotl_command: str | None = None
    """Path of the `axolotl` command for framework axolotl; empty: `axolotl` on PATH, else the environment
    scripts/make-tool-venvs.sh builds (~/.cache/ftwizard/tool-venvs/axolotl)."""

    lora: LoraSection = Field(default_factory=LoraSection)
    """Adapter settings (unused by a full fine-tune)."""

    dataset: DatasetSection | None = None
    """Training data; needed to train, not to plan."""

    training: TrainingSection = Field(default_factory=TrainingSection)
    """Hyperparameters."""

    output: OutputSection = Field(default_factory=OutputSection)
    """Run directory and Hub destination."""

    debug: DebugSection = Field(default_factory=DebugSection)
    """Testing aids (fault injection); leave them empty."""

    @property
    def uses_adapter(self) -> bool:
        """True when the method trains a LoRA adapter rather than all weights."""
        return self.method != "full"

    @model_validator(mode="after")
    def _cross_field_rules(self) -> "FTConfig":
        """Every rule over two or more settings (tuiapp/core/config/cross_fields.py), all reported at once."""
        problems = cross_field_problems(flat_values(self))
        if problems:
            raise CrossFieldError(problems)
        return self
