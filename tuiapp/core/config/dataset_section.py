"""Where the training data comes from and how its columns are read."""

from pydantic import Field, model_validator

from tuiapp.core.config.base import Section
from tuiapp.core.config.choices import FIELD_BOUNDS, DatasetFormat


class DatasetSection(Section):
    source: str = Field(min_length=1)
    """A local file or folder (.jsonl, .json, .csv, .tsv, .parquet, .txt) or a Hub dataset id."""

    config_name: str | None = None
    """The Hub dataset's configuration (subset) name, if it has several."""

    split: str = "train"
    """The split to train on."""

    format: DatasetFormat = "auto"
    """Row format; "auto" detects it from the columns."""

    columns: dict[str, str] = Field(default_factory=dict)
    """Column renames applied before format detection, as {name in file: name expected}."""

    skip_bad: bool = False
    """Leave out rows that cannot be read or converted (counted, with examples) instead of stopping."""

    dedupe: bool = False
    """Drop rows that exactly repeat an earlier row."""

    eval_split: str | None = None
    """A separate split to evaluate on; leave empty to carve eval_size rows out of the train split."""

    eval_size: float = Field(default=0.0, ge=0.0, le=FIELD_BOUNDS["dataset.eval_size"][1])
    """Rows held out for evaluation: a fraction below 1 (0.05 = 5%) or a row count; 0 = no eval."""

    @model_validator(mode="after")
    def _eval_size_shape(self) -> "DatasetSection":
        if self.eval_size >= 1 and not self.eval_size.is_integer():  # finite: Section refuses .inf and .nan
            raise ValueError("dataset.eval_size must be a fraction below 1 or a whole number of rows")
        return self
