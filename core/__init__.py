"""herd's core: hook specifications, plugin manager, config, run directory and pipeline.

The core knows the recipe's stage graph and the contracts of each plugin family; it
never imports a plugin by name (built-ins are listed in ``registry.toml``).
"""
