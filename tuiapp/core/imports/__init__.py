"""`ftwizard import`: another tool's config (Axolotl, LLaMA-Factory, TRL's CLI) read into ours.

Each tool's keys are read through the tables its exporter writes from (tuiapp/core/export/key_table.py), its
choice fields (method, precision) by trying each value through the same tables, and whatever is left is checked
against an export of the imported config, so an import is the exporters' inverse and nothing is dropped unsaid.
"""

# --from value -> the tool's name in messages (the CLI's choices; no module below is imported for them)
TOOLS: dict[str, str] = {"axolotl": "Axolotl", "llamafactory": "LLaMA-Factory", "trl": "TRL's CLI"}
