"""The dataset doctor's pure half: read rows, detect their format, convert, split, count.

Tokenizing and rendering through a chat template need transformers, so they live in
`tuiapp.training.dataset_tokens` and run in a child process for the TUI.
"""
