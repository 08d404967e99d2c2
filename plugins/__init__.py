"""Built-in plugins. Each folder is one plugin; ``registry.toml`` lists them."""
