"""``python cli.py long-context ACTION``: ``generate`` (RULER samples) and ``repo-qa``
(code-repository questions from an installed package's import graph)."""

from __future__ import annotations

import argparse

from herd.core.errors import ConfigError
from herd.plugins.long_context import generate_command, repo_qa_command

ACTIONS = {"generate": generate_command.run, "repo-qa": repo_qa_command.run}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="long_context_command", metavar="ACTION")
    generate_command.add_parser(sub)
    repo_qa_command.add_parser(sub)


def run(args: argparse.Namespace, app) -> int:
    action = ACTIONS.get(args.long_context_command)
    if action is None:
        raise ConfigError("long-context: name an action: `long-context generate --task T --length N ...` or "
                          "`long-context repo-qa --package NAME --samples K --output F.jsonl`")
    return action(args, app)
