"""herd: the Llama 3.1 training recipe as a plugin-based framework.

The repository root is the ``herd`` package (``pyproject.toml`` maps it with
``package-dir``), so ``herd.core`` is ``core/`` and ``herd.plugins`` is ``plugins/``.
"""

__version__ = "0.1.0"
