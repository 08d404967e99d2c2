"""The Llama 3.1 chat format, in one place."""
