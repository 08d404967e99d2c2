"""One sample's text, decoded token by token as the model samples it.

Streamed and whole answers are assembled by the same ``SampleText``, so a stream's deltas
concatenate to the non-streamed text and both count the same tokens. A delta is held back
while it could still change: an incomplete UTF-8 sequence (decoded as U+FFFD) or a tail
that could be the start of a stop string.
"""

from __future__ import annotations

from typing import Callable, Sequence


class SampleText:
    """Feed a sample's token ids with ``add``; read ``text``, ``tokens`` and ``finish``.

    ``tokens`` counts every id the model generated for this sample up to its end, the
    stop id that ended it included (it was generated). ``finish`` is ``"stop"`` (a stop id
    or stop string ended it), ``"length"`` (its token budget ran out) or ``None`` (going on).
    """

    def __init__(self, decode: Callable[[Sequence[int]], str], stop: Sequence[str], stop_ids: frozenset[int],
                 budget: int):
        self._decode = decode
        self._stop = [s for s in stop if s]
        self._stop_ids = stop_ids
        self._budget = budget
        self.ids: list[int] = []  # content ids: the stop id that ended the sample is not one
        self.end_id: int | None = None
        self.tokens = 0
        self.text = ""  # the whole text so far, cut at a stop string
        self.emitted = 0  # characters of ``text`` already handed out as deltas
        self.finish: str | None = None

    @property
    def done(self) -> bool:
        return self.finish is not None

    def add(self, token: int) -> str:
        """Take one generated id; return the text that is now certain (may be empty)."""
        if self.done:
            return ""
        self.tokens += 1
        if token in self._stop_ids:
            self.end_id = token
            self.finish = "stop"
            return self.flush()
        self.ids.append(token)
        self.text = self._decode(self.ids)
        cuts = [self.text.find(s) for s in self._stop if s in self.text]
        if cuts:
            self.text = self.text[: max(min(cuts), self.emitted)]
            self.finish = "stop"
            return self.flush()
        if self.tokens >= self._budget:
            self.finish = "length"
            return self.flush()
        return self._take(self._certain_end())

    def end(self) -> str:
        """The decoding ended without this sample finishing (its budget was the model's
        context): it ends by length; return what was held back."""
        if self.finish is None:
            self.finish = "length"
        return self.flush()

    def flush(self) -> str:
        return self._take(len(self.text))

    def _take(self, upto: int) -> str:
        delta = self.text[self.emitted : upto]
        self.emitted = max(self.emitted, upto)
        return delta

    def _certain_end(self) -> int:
        end = len(self.text.rstrip("\ufffd"))
        hold = 0  # the longest tail that a stop string starts with
        for s in self._stop:
            for k in range(min(len(s) - 1, end), 0, -1):
                if self.text[end - k : end] == s[:k]:
                    hold = max(hold, k)
                    break
        return max(end - hold, self.emitted)
