"""Chat with a finished run: the JSON-lines protocol, the generation settings, the conversation and the client
that runs the model's child process (`python -m tuiapp.training.chat_child`). Pure: no torch here."""
