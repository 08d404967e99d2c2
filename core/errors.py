"""Errors the CLI turns into a one-line cause and an exit code.

Every message names the thing at fault (plugin, config key, file, record, stage) and,
where there is one, how to fix it.
"""

from __future__ import annotations


class HerdError(Exception):
    """Base class; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class ConfigError(HerdError):
    exit_code = 2


class PluginError(HerdError):
    exit_code = 3


class StageError(HerdError):
    """A stage's plugin raised; the run directory stays consistent and ``--resume`` can
    continue once the cause is fixed."""

    exit_code = 4


class InputError(HerdError):
    """Bad input that cannot be dropped record by record (an unreadable file...)."""

    exit_code = 5
