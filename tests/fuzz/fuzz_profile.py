"""The fuzz suite's hypothesis profile: seeded and without an example database, so every machine generates the
same cases and a failure reproduces; deadlines off (the runner bounds each case's time itself)."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "fuzz",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
)
FUZZ = settings.get_profile("fuzz")


def fuzz_settings(examples: int) -> settings:
    """The fuzz profile with this many generated cases."""
    return settings(FUZZ, max_examples=examples)
