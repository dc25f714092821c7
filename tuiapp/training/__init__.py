"""The heavy side: training, tokenizing and model building. Runs in child processes only.

Every torch / transformers / trl / peft / datasets / unsloth import lives inside a function here,
so importing this package stays cheap and the TUI process never pays for it.
"""
