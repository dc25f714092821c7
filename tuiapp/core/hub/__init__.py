"""Publishing a run on the Hugging Face Hub, the pure part: repo names, the model card's text, the config made
fit to publish and the list of files to upload. Nothing here imports huggingface_hub or torch; the upload
itself is tuiapp.training.push_action."""
