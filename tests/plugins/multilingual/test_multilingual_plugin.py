"""The plugin loads through registry.toml, registers its components and config, and its
curation steps build from the config."""

import logging

from herd.core.config import load_config
from herd.core.pipeline import StageContext
from herd.core.plugins import load_plugins
from herd.core.records import Document

REGISTRY = """
[plugins.curation_steps]
module = "herd.plugins.curation_steps"
always = true

[plugins.judges]
module = "herd.plugins.judges"
always = true

[plugins.multilingual]
module = "herd.plugins.multilingual"
always = false
"""


def test_enabled_only_when_requested_and_registers_everything(tmp_path):
    registry = tmp_path / "registry.toml"
    registry.write_text(REGISTRY)
    assert "multilingual" not in load_plugins(registry_path=registry, entry_points=False).active
    loaded = load_plugins(["multilingual"], registry_path=registry, entry_points=False)
    names = {(c.family, c.name): c.options for c in loaded.registry.of_plugin("multilingual")}
    # documents get their language from curation's own step, which every run has
    assert ("filters", "language_id") not in names
    assert ("filters", "language_id") in {(c.family, c.name) for c in loaded.registry.of_plugin("curation_steps")}
    assert names[("filters", "script_heuristics")]["after"] == "language_id"
    assert ("dedupers", "language_dedup") in names
    assert names[("judges", "language_match")]["kind"] == "verifier"
    assert names[("synthesizers", "multilingual_prompts")]["capability"] == "multilingual"
    assert ("evaluators", "multilingual") in names
    config = load_config(loaded.registry, profile="quick", overrides=[
        "filters.language_id.keep_languages=[\"de\"]", "filters.script_heuristics.min_words=5"])
    assert config.section("multilingual").pretrain_mix_target == 0.08
    ctx = StageContext("curate", config, tmp_path, {}, loaded.registry, loaded.active,
                       logging.getLogger("test"), False, tmp_path, "quick")
    step = ctx.build("filters", "language_id")
    assert step.apply(Document("1", text="Das ist ein ganz normaler deutscher Satz.")).language == "de"
    assert ctx.build("filters", "script_heuristics").cfg.min_words == 5


def test_language_id_runs_right_after_extraction_in_curate():
    """Later filters (Gopher's English stop words, per-language dirty words) read the
    language, so the plugin's default filters are placed after the steps they name."""
    from herd.core.app import App
    from herd.plugins.curation.steps import resolve_steps

    app = App.create(profile="quick", plugins=["multilingual"], entry_points=False)
    names = [s.name for s in resolve_steps(app.config.section("curate").steps, app.registry, app.config.component)]
    assert names[names.index("html_text") + 1:names.index("html_text") + 3] == ["language_id", "script_heuristics"]
    assert names[names.index("dirty_words") + 1] == "multilingual_dirty_words"
