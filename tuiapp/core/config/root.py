"""FTConfig: the one validated, frozen config that screens edit, the planner reads and the worker runs."""

from typing import Literal

from pydantic import Field, model_validator

from tuiapp.core.config.base import Section
from tuiapp.core.config.choices import TASK_FORMATS, Framework, Method, Task
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
    """hf = transformers + PEFT + TRL; unsloth = Unsloth's kernels (CUDA GPUs)."""

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
    def _task_fits_data(self) -> "FTConfig":
        if self.dataset is not None and self.dataset.format not in TASK_FORMATS[self.task]:
            allowed = ", ".join(TASK_FORMATS[self.task])
            raise ValueError(
                f"task {self.task} cannot train on dataset.format {self.dataset.format}: "
                f"set dataset.format to one of {allowed}, or choose a task that fits the data"
            )
        if self.training.packing and self.task != "sft":
            raise ValueError(f"training.packing works with task sft only, not {self.task}: set packing to false")
        has_eval = self.dataset is not None and (self.dataset.eval_split or self.dataset.eval_size > 0)
        if self.training.eval_steps is not None and not has_eval:
            raise ValueError(
                "training.eval_steps is set but there is no eval data: set dataset.eval_size "
                "(e.g. 0.05) or dataset.eval_split, or clear eval_steps"
            )
        if self.method == "full" and self.training.optimizer == "sgd" and self.task != "sft":
            raise ValueError("optimizer sgd is only offered for sft: use adamw_torch or adamw_8bit")
        inject = self.debug.inject_oom_at_step
        if inject is not None and self.training.max_steps is not None and inject > self.training.max_steps:
            raise ValueError(
                f"debug.inject_oom_at_step ({inject}) is past training.max_steps ({self.training.max_steps}): "
                "it would never fire; lower it or clear it"
            )
        return self
