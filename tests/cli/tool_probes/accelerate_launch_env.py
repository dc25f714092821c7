"""Read an accelerate config the way `accelerate launch --config_file FILE script.py` does, up to the environment
it would give each process, then build the FSDP / DeepSpeed plugin from that environment as the Trainer's
Accelerator does. `launch_view(path)` in-process; as a script it prints the same as JSON."""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def launch_view(path: str) -> dict[str, Any]:
    """The launcher accelerate picks for `path`, its process count, the environment and the plugin it builds."""
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser
    from accelerate.utils.launch import prepare_deepspeed_cmd_env, prepare_multi_gpu_env

    args = launch_command_parser().parse_args(["--config_file", path, "script.py"])
    args, defaults, mp_from_config = _validate_launch_command(args)
    out: dict[str, Any] = {"num_processes": args.num_processes, "mixed_precision": args.mixed_precision}
    if args.use_deepspeed:  # as launch_command does before deepspeed_launcher
        fields = list(defaults.deepspeed_config.keys()) + (["mixed_precision"] if mp_from_config else [])
        args.deepspeed_fields_from_accelerate_config = ",".join(fields)
        out["launcher"], env = "deepspeed", prepare_deepspeed_cmd_env(args)[1]
    elif args.use_fsdp or args.multi_gpu:
        out["launcher"], env = ("fsdp" if args.use_fsdp else "multi_gpu"), prepare_multi_gpu_env(args)
    else:
        out["launcher"], env = "simple", {}
    out["env"] = {key: value for key, value in env.items() if key.startswith(("ACCELERATE_", "FSDP_"))}
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        out["plugin"] = _plugin(args)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return out


def _plugin(args: Any) -> dict[str, Any] | None:
    if args.use_fsdp:
        from accelerate.utils import FullyShardedDataParallelPlugin

        plugin = FullyShardedDataParallelPlugin()
        return {
            "fsdp_version": plugin.fsdp_version,
            "reshard_after_forward": plugin.reshard_after_forward,
            "cpu_offload": type(plugin.cpu_offload).__name__,
            "activation_checkpointing": plugin.activation_checkpointing,
            "state_dict_type": str(plugin.state_dict_type),
        }
    if args.use_deepspeed:
        from accelerate.utils import DeepSpeedPlugin

        plugin = DeepSpeedPlugin()
        return {"zero_stage": plugin.zero_stage, "zero_optimization": plugin.deepspeed_config["zero_optimization"]}
    return None


if __name__ == "__main__":
    print(json.dumps(launch_view(sys.argv[1]), default=str))
