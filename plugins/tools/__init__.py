"""The tool-use capability (issue 19; docs/recipe.md section 6, tool use): one parser for
every tool-call format, built-in tools run locally (search over a local index, Python in
the sandbox, sympy for maths), a registry third parties add tools to, the ``tools``
rollout environment and the ``tool_use`` trajectory synthesizer. Enable with
``--plugins tools``. See docs/tools.md."""

from __future__ import annotations

from herd.core.hookspecs import hookimpl
from herd.plugins.tools.config import ToolsConfig


def _settings(services) -> ToolsConfig:
    config = services.config
    return config.section("tool_use") if config.has_section("tool_use") else ToolsConfig()


def _environment(cfg, services):
    from pathlib import Path

    from herd.plugins.tools.builtin.python import UploadedFiles, python_tool
    from herd.plugins.tools.environment import ToolEnvironment
    from herd.plugins.tools.toolbox import build_toolbox

    settings = _settings(services)
    run_uploads = UploadedFiles.read([Path(p) for p in settings.uploaded_files])

    def code_tool(files: UploadedFiles):
        # a prompt's files beside the run's; the prompt's win a name both use
        return python_tool(services.open_sandbox, UploadedFiles({**run_uploads.texts, **files.texts}),
                           settings.code_timeout_s or None)

    return ToolEnvironment(build_toolbox(settings, services, files=run_uploads), settings, code_tool)


def _synthesizer(cfg, services):
    from herd.plugins.tools.synthesis import ToolUseSynthesizer

    return ToolUseSynthesizer(_settings(services), services)


@hookimpl
def herd_register_commands(register):
    from herd.plugins.tools.bfcl import command

    register("eval-tools", command.add_arguments, command.run,
             help="BFCL-compatible tool-call accuracy per category (AST rules; a malformed call is wrong)")


def _evaluator(cfg, services):
    from herd.plugins.tools.evaluator import ToolUseEvaluator

    return ToolUseEvaluator(cfg, services)


def _verifier(cfg, services):
    from herd.plugins.tools.judge import ToolUseVerifier

    return ToolUseVerifier(cfg, services)


@hookimpl
def herd_register_judges(register):
    register("tool_use", _verifier, kind="verifier",
             description="1 when a tool-use trajectory's calls all ran and its answer states their results; 0 "
                         "on a malformed call, a tool error or an answer that ignores the results")


@hookimpl
def herd_register_evaluators(register):
    from herd.plugins.tools.evaluator import ToolsEvalConfig

    register("tool_use", _evaluator, config=ToolsEvalConfig, capability="tool_use",
             description="held-out BFCL-format tool questions: call accuracy, no-call accuracy, call validity, "
                         "malformed calls")


@hookimpl
def herd_register_config_sections(register):
    register("tool_use", ToolsConfig)


@hookimpl
def herd_register_environments(register):
    register("tools", _environment, capability="tool_use",
             description="answers tool calls (every format) with ipython results; malformed calls with an error")


@hookimpl
def herd_register_synthesizers(register):
    register("tool_use", _synthesizer, capability="tool_use",
             description="single, parallel, multi-step and file-upload tool trajectories, kept only when every "
                         "call parses, validates and runs")
