"""Language identification: lingua (its models ship inside the package) restricted to the
configured languages, or a fastText LID model (the recipe's 176-language classifier,
``lid.176.bin``) when the user gives its path. Languages are ISO 639-1 codes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from herd.core.errors import ConfigError, InputError
from herd.lib.language.settings import LidSettings

_CODE_BLOCK = re.compile(r"```.*?(?:```|$)|`[^`\n]*`", re.DOTALL)
_URL = re.compile(r"https?://\S+|www\.\S+")


@dataclass(frozen=True)
class Detection:
    language: str | None  # None: no configured language fits (empty text, digits only...)
    confidence: float
    ranked: tuple[tuple[str, float], ...] = ()  # every candidate language, best first

    def confidence_of(self, language: str) -> float:
        return next((value for code, value in self.ranked if code == language), 0.0)


def prose(text: str) -> str:
    """Text without code and URLs, which say nothing about the natural language."""
    return _URL.sub(" ", _CODE_BLOCK.sub(" ", text))


def sample(text: str, max_chars: int, windows: int = 4) -> str:
    """At most ``max_chars`` characters of ``text``, whitespace collapsed: ``windows``
    pieces spread evenly from its start to its end, so that a menu or a byline before the
    body, or a file that alternates two languages, does not decide by its first lines."""
    if len(text) > max_chars:
        width = max_chars // windows
        step = (len(text) - width) / max(1, windows - 1)
        text = " ".join(text[round(i * step):round(i * step) + width] for i in range(windows))
    return " ".join(text.split())


class LanguageIdentifier:
    def __init__(self, settings: LidSettings | None = None):
        self.settings = settings or LidSettings()
        self.languages = [code.lower() for code in self.settings.languages]
        if self.settings.fasttext_model:
            self._backend = _FastText(Path(self.settings.fasttext_model), self.languages)
        else:
            self._backend = _Lingua(self.languages, self.settings.low_accuracy, self.settings.preload)

    def __getstate__(self) -> dict:
        """Executors may ship steps to worker processes: the detector is rebuilt there."""
        return {"settings": self.settings}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["settings"])

    @property
    def backend(self) -> str:
        return type(self._backend).__name__.strip("_").lower()

    def detect(self, text: str) -> Detection:
        return self.detect_many([text])[0]

    def detect_many(self, texts: list[str]) -> list[Detection]:
        return self._backend.detect_many([sample(t, self.settings.max_chars) for t in texts])


class _Lingua:
    def __init__(self, languages: list[str], low_accuracy: bool, preload: bool = False):
        from lingua import IsoCode639_1, LanguageDetectorBuilder

        codes = []
        for code in languages:
            try:
                codes.append(IsoCode639_1.from_str(code))
            except ValueError:
                raise ConfigError(f"language id: lingua does not know the language code {code!r} (use ISO 639-1)") from None
        if len(codes) < 2:
            raise ConfigError("language id needs at least two languages to choose from (lid.languages)")
        builder = LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
        if low_accuracy:
            builder = builder.with_low_accuracy_mode()
        if preload:
            builder = builder.with_preloaded_language_models()
        self.detector = builder.build()

    def detect_many(self, texts: list[str]) -> list[Detection]:
        if len(texts) == 1:  # the parallel call starts a thread pool: slower for one text
            found = [self.detector.compute_language_confidence_values(texts[0])]
        else:
            found = self.detector.compute_language_confidence_values_in_parallel(texts)
        out = []
        for values in found:
            if not values or values[0].value <= 0:
                out.append(Detection(None, 0.0))
                continue
            # lingua sums in the order of a Rust hash map, which changes from process to
            # process: the last bits of a value vary, and equal values come in any order.
            # Rounded values, ties broken by language code, are the same in every process.
            ranked = tuple(sorted(((v.language.iso_code_639_1.name.lower(), round(float(v.value), 9))
                                   for v in values), key=lambda item: (-item[1], item[0])))
            out.append(Detection(ranked[0][0], ranked[0][1], ranked))
        return out


def fasttext_predict(model, text: str, k: int = -1) -> list[tuple[str, float]]:
    """(label, probability) pairs, best first. Calls the binding directly: the fasttext
    wheel's ``predict`` fails on one text under NumPy 2 and repeats the top probability for
    every label of a list of texts."""
    line = " ".join(text.split()) + "\n"
    return [(label, float(prob)) for prob, label in model.f.predict(line, k, 0.0, "strict")]


class _FastText:
    TOP_K = 10

    def __init__(self, path: Path, languages: list[str]):
        if not path.is_file():
            raise InputError(f"fastText LID model {path} does not exist (lid.fasttext_model)")
        import fasttext

        try:
            self.model = fasttext.load_model(str(path))
        except ValueError as exc:
            raise InputError(f"fastText LID model {path} cannot be loaded: {exc}") from None
        self.allowed = set(languages)

    def detect_many(self, texts: list[str]) -> list[Detection]:
        out = []
        for text in texts:
            ranked = tuple(
                (code, min(prob, 1.0))
                for code, prob in ((label.removeprefix("__label__").split("_")[0].lower(), prob)
                                   for label, prob in fasttext_predict(self.model, text, self.TOP_K))
                if not self.allowed or code in self.allowed
            )
            if not text.strip() or not ranked:
                out.append(Detection(None, 0.0))
            else:
                out.append(Detection(ranked[0][0], ranked[0][1], ranked))
        return out
