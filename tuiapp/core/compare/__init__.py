"""`ftwizard compare`: a short measured trial of each method on the user's machine, beside the planner's estimates.

A comparison is a run directory (so it survives the terminal and `ftwizard runs` lists it) holding one trial
run per method under `trials/`; its own `events.jsonl` carries the plan, each trial's measured figures and any
estimate that missed by more than `MISMATCH_SHARE`. Nothing here imports torch.
"""
