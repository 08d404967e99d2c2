"""herd's command line: a thin layer over ``herd.core``.

Core commands: ``run``, ``plugins``, ``stages``, ``inspect``, ``config``, ``version``.
Plugins add their own (``curate``, ``export-hf``, ``eval-code``, ``serve``...) through
``herd_register_commands``. Exit codes: 0 success, 1 unexpected error, 2 config error,
3 plugin error, 4 stage failure, 5 bad input; the last line printed on failure is the
one-line cause.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

try:
    from herd import __version__
    from herd.core.app import App
    from herd.core.errors import HerdError, InputError, disk_full_error
    from herd.core.log import add_file_log, setup_logging
    from herd.core.pipeline import STAGES
    from herd.core.plugins import LoadedPlugins, load_plugins
except ModuleNotFoundError as exc:  # running `python cli.py` before the README's set-up
    if exc.name == "herd":
        sys.exit("herd is not installed: run `pip install -e .` in this checkout first (see README)")
    raise


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="debug output")


def _config_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="a TOML config file (see configs/default.toml)")
    parser.add_argument("--profile", choices=["quick", "default", "full"], help="config profile")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
        help="override one config value (repeatable)",
    )
    parser.add_argument("--plugins", default="", help="comma-separated plugins to activate (e.g. code,multilingual)")


def _plugin_list(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def build_parser(discovered: LoadedPlugins | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="herd", description="The Llama 3.1 recipe, runnable.")
    _common(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run the pipeline (curate -> mix -> pretrain -> posttrain -> evaluate -> report)")
    _common(run)
    _config_options(run)
    run.add_argument("--run-dir", type=Path, help="run directory (default runs/<run.name>)")
    run.add_argument("--stages", default="", help=f"comma-separated subset of: {','.join(STAGES)} and stages plugins add (see `stages`)")
    run.add_argument("--resume", action="store_true", help="continue interrupted stages")
    run.add_argument("--disable-plugin", action="append", default=[], metavar="NAME",
                     help="do not load this installed or built-in plugin (repeatable; also run.disable_plugins)")
    run.add_argument("--check", action="store_true",
                     help="validate every stage's parallel layout against its training backend and exit")

    plugins = sub.add_parser("plugins", help="list built-in and installed plugins")
    _common(plugins)
    plugins.add_argument("--json", action="store_true")
    plugins.add_argument("--markdown", action="store_true", help="the table docs/architecture.md embeds")
    plugins.add_argument("--write-doc", type=Path, metavar="FILE",
                         help="replace the plugin table of FILE (docs/architecture.md) with the current one")

    stages = sub.add_parser("stages", help="list the stage graph and the plugins implementing it")
    _common(stages)
    _config_options(stages)

    inspect = sub.add_parser("inspect", help="show a run directory's stages (or one stage: RUN/curate) in pipeline order")
    _common(inspect)
    inspect.add_argument("run_dir", type=Path, help="runs/<name>, or one stage folder of it (runs/<name>/curate)")
    inspect.add_argument("--json", action="store_true")

    config = sub.add_parser("config", help="print the resolved config as TOML")
    _common(config)
    _config_options(config)

    version = sub.add_parser("version", help="print herd's version")
    _common(version)

    if discovered is not None:
        for name, command in sorted(discovered.registry.components["commands"].items()):
            parser_ = sub.add_parser(name, help=command.options.get("help", command.description))
            _common(parser_)
            _config_options(parser_)
            command.factory(parser_)  # add_arguments
            parser_.set_defaults(_plugin_command=command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    log = setup_logging()
    try:
        discovered = load_plugins(_all_builtin_names(), tolerant=True)
        parser = build_parser(discovered)
        args = parser.parse_args(argv)
        log = setup_logging(args.verbose, args.quiet)
        if args.command is None:
            parser.print_help()
            return 2
        if hasattr(args, "_plugin_command"):
            return _run_plugin_command(args, log)
        return COMMANDS[args.command](args, log, discovered)
    except HerdError as exc:
        print(f"herd: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("herd: interrupted; re-run with --resume to continue", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so in one line, traceback with --verbose
        full = disk_full_error(exc)
        if full is not None:
            print(f"herd: error: {full}", file=sys.stderr)
            return full.exit_code
        log.debug("unexpected error", exc_info=True)
        print(f"herd: error: unexpected {type(exc).__name__}: {exc} (re-run with -v for the traceback)", file=sys.stderr)
        return 1


def _all_builtin_names() -> list[str]:
    from herd.core.plugins import read_builtin_registry

    return list(read_builtin_registry())


DEFAULT_CONFIG = Path(__file__).resolve().parent / "configs" / "default.toml"


def _app(args: argparse.Namespace, log, extra: Sequence[str] = ()) -> App:
    plugins = _plugin_list(getattr(args, "plugins", "")) + [p for p in extra]
    config_file = getattr(args, "config", None)
    if config_file is None and DEFAULT_CONFIG.is_file():
        config_file = DEFAULT_CONFIG
    return App.create(
        plugins=list(dict.fromkeys(plugins)),
        profile=getattr(args, "profile", None),
        config_file=config_file,
        overrides=getattr(args, "overrides", []),
        log=log,
        disabled_plugins=getattr(args, "disable_plugin", []),
    )


def _run_plugin_command(args: argparse.Namespace, log) -> int:
    command = args._plugin_command
    app = _app(args, log, extra=[command.plugin])
    run = command.options.get("run")
    return int(run(args, app) or 0)


def cmd_run(args: argparse.Namespace, log, _discovered) -> int:
    app = _app(args, log)
    from herd.lib.training.layout_check import check_layouts

    stages = app.resolve_stages(_plugin_list(args.stages))  # names checked before any stage runs
    layouts = check_layouts(app.registry, app.config, stages)
    if layouts.problems:
        print("herd: error: parallel layouts the backends refuse:\n  " + "\n  ".join(layouts.problems), file=sys.stderr)
        return 2
    if args.check:
        print(f"layouts consistent (profile {app.config.profile}):\n{layouts.summary()}")
        return 0
    run_dir = app.run_dir(args.run_dir)
    add_file_log(log, run_dir.log_path)
    log.info("herd %s: run '%s' (profile %s) in %s with plugins %s", __version__,
             app.config.run.name, app.config.profile, run_dir.root, ", ".join(app.plugins.active))
    log.debug("resolved config, a section a line:\n%s", "\n".join(
        f"[{name}] {json.dumps(values, sort_keys=True, default=str)}" for name, values in app.config.to_dict().items()))
    outcomes = app.run_pipeline(run_dir, stages, args.resume)
    ran = [o.stage for o in outcomes if o.status == "ran"]
    cached = [o.stage for o in outcomes if o.status == "cached"]
    skipped = [f"{o.stage} ({o.reason})" for o in outcomes if o.status == "skipped"]
    log.info("run complete: ran %s; up to date %s", ", ".join(ran) or "none", ", ".join(cached) or "none")
    if skipped:
        log.warning("SKIPPED stages: %s", "; ".join(skipped))
    return 0


def cmd_plugins(args: argparse.Namespace, log, discovered: LoadedPlugins) -> int:
    if args.markdown:
        print(plugin_table(discovered))
        return 0
    if args.write_doc:
        doc = args.write_doc.read_text(encoding="utf-8")
        args.write_doc.write_text(with_plugin_table(doc, plugin_table(discovered), args.write_doc), encoding="utf-8")
        print(f"updated the plugin table of {args.write_doc}")
        return 0
    rows = [_plugin_row(name, info, discovered) for name, info in sorted(discovered.infos.items())]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        print(f"{row['name']:<16} {row['origin']:<12} {row['activation']:<10} {row['status']}")
        if row["description"]:
            print(f"{'':<16} {row['description']}")
        for family, names in row["registers"].items():
            print(f"{'':<16}   {family}: {', '.join(names)}")
    return 0


def _plugin_row(name: str, info, discovered: LoadedPlugins) -> dict[str, Any]:
    """One plugin for ``herd plugins``: what it registered comes from the registry."""
    missing = info.missing_requirements()
    status = "ok"
    if name in discovered.failed:
        status = f"unavailable: {discovered.failed[name]}"
    elif missing:
        status = f"missing {', '.join(missing)}" + (f" ({info.install_hint})" if info.install_hint else "")
    return {
        "name": name, "origin": info.origin, "version": info.version,
        "activation": "always" if info.always else "--plugins", "registers": discovered.registered(name),
        "description": info.description, "status": status,
    }


PLUGIN_TABLE_START, PLUGIN_TABLE_END = "<!-- plugin-table:start -->\n", "<!-- plugin-table:end -->"


def plugin_table(discovered: LoadedPlugins) -> str:
    """Markdown: each built-in plugin, when it is active, and what it registers per family
    (the table docs/architecture.md embeds)."""
    lines = ["| plugin | active | registers |", "|---|---|---|"]
    for name, info in sorted(discovered.infos.items()):
        if info.origin != "built-in":
            continue
        cell = "; ".join(f"{family}: {', '.join(names)}" for family, names in discovered.registered(name).items())
        active = "always" if info.always else "`--plugins " + name + "`"
        lines.append(f"| `{name}` | {active} | {cell or '(nothing)'} |")
    return "\n".join(lines)


def embedded_plugin_table(doc: str, where: Path) -> str:
    """The table between the plugin-table markers of ``doc``."""
    if PLUGIN_TABLE_START not in doc or PLUGIN_TABLE_END not in doc:
        raise InputError(f"{where} has no plugin table markers ({PLUGIN_TABLE_START.strip()} ... {PLUGIN_TABLE_END})")
    return doc[doc.index(PLUGIN_TABLE_START) + len(PLUGIN_TABLE_START):doc.index(PLUGIN_TABLE_END)].strip()


def with_plugin_table(doc: str, table: str, where: Path) -> str:
    """``doc`` with ``table`` between its plugin-table markers."""
    embedded_plugin_table(doc, where)  # the markers must be there
    head, rest = doc.split(PLUGIN_TABLE_START, 1)
    return f"{head}{PLUGIN_TABLE_START}{table}\n{PLUGIN_TABLE_END}{rest.split(PLUGIN_TABLE_END, 1)[1]}"


def cmd_stages(args: argparse.Namespace, log, _discovered) -> int:
    app = _app(args, log)
    from herd.core.pipeline import stage_order

    for stage in stage_order(app.registry.components["stages"]):
        impl = app.registry.components["stages"].get(stage)
        if impl is None:
            print(f"{stage:<10} (no plugin: will be skipped)")
            continue
        reads = list(impl.options.get("reads", ())) + [f"{o}?" for o in impl.options.get("optional_reads", ())]
        print(f"{stage:<12} plugin {impl.plugin:<14} reads {', '.join(reads) or '-':<22} {impl.description}")
    print("(name? = read when present; * = every earlier stage)")
    return 0


def cmd_inspect(args: argparse.Namespace, log, _discovered) -> int:
    from herd.core.run_view import read_run, to_json
    from herd.core.run_view_text import render

    view = read_run(args.run_dir)
    if args.json:
        print(json.dumps(to_json(view), indent=2))
    else:
        print(render(view), end="")
    return 0


def cmd_config(args: argparse.Namespace, log, _discovered) -> int:
    print(_app(args, log).config.to_toml(), end="")
    return 0


def cmd_version(args: argparse.Namespace, log, _discovered) -> int:
    print(f"herd {__version__}")
    return 0


COMMANDS = {
    "run": cmd_run,
    "plugins": cmd_plugins,
    "stages": cmd_stages,
    "inspect": cmd_inspect,
    "config": cmd_config,
    "version": cmd_version,
}


if __name__ == "__main__":
    sys.exit(main())
