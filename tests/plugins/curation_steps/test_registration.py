import pickle

from herd.core.config import load_config
from herd.core.plugins import load_plugins
from herd.core.records import Document

EXPECTED = {
    "extractors": {"html_text"},
    "filters": {"language_id", "pii", "url_blocklist", "adult_keywords", "length", "gopher_repetition",
                "gopher_quality", "placeholder_text", "dirty_words"},
    "dedupers": {"url_dedup", "exact_dedup", "minhash_dedup", "line_dedup", "token_kl", "quality_classifier",
                 "domain_classifier"},
    "mixers": {"domain_mix"},
    "commands": {"train-quality-classifier"},
}


def test_every_step_is_registered_and_builds_from_its_config(paragraphs):
    loaded = load_plugins()
    assert "curation_steps" in loaded.active
    config = load_config(loaded.registry, profile="quick",
                         overrides=["filters.gopher_quality.min_words=10", "dedupers.minhash_dedup.bands=7"])
    for family, names in EXPECTED.items():
        for name in names:
            component = loaded.registry.components[family][name]
            assert component.plugin == "curation_steps"
            if family == "commands":
                continue
            step = component.factory(config.component(family, name))
            pickle.loads(pickle.dumps(step))  # executors send steps to other processes
            if family == "filters":
                assert step.name == name
                result = step.apply(Document(id="x", text=paragraphs[0]))
                assert result is not None
    assert config.component("dedupers", "minhash_dedup").bands == 7
    assert config.component("filters", "gopher_quality").min_words == 10
    assert config.component("dedupers", "line_dedup").bucket_size == 2000  # quick profile
