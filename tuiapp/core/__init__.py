"""The pure core: config, hardware, presets. Imports stdlib, pydantic, yaml and psutil only; never torch."""
