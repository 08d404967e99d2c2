"""The ``math_python`` rollout environment (docs/recipe.md section 6, interleaved code and
text reasoning): in a rollout of a math prompt, a model turn that ends with Python it has
not seen run (``python_exec.unexecuted_code``) is answered with the program's output from
the sandbox as an ``ipython`` turn, and the model goes on from it; a turn without such code
gets ``None`` and the rollout ends there, so the judges (the answer verifier) read the
final answer written after the run."""

from __future__ import annotations

from herd.core.protocols import Sandbox
from herd.core.records import ChatMessage, SFTRow
from herd.core.services import Services
from herd.plugins.math.config import MathPythonConfig
from herd.plugins.math.python_exec import answer_message, run_programs, unexecuted_code

CAPABILITY = "math"


class MathPythonEnvironment:
    def __init__(self, cfg: MathPythonConfig | None, services: Services):
        self.cfg = cfg or MathPythonConfig()
        self.services = services
        self._sandbox: Sandbox | None = None

    def applies(self, prompt: SFTRow) -> bool:
        return prompt.capability == CAPABILITY

    def respond(self, conversation: list[ChatMessage]) -> list[ChatMessage] | None:
        if not conversation:
            return None
        code = unexecuted_code(conversation[-1])
        if code is None:
            return None
        run = run_programs(self.sandbox(), [code], self.cfg.timeout_s, self.cfg.max_output_chars)[0]
        return [answer_message(run)]

    def sandbox(self) -> Sandbox:
        if self._sandbox is None:
            # One sandbox for all of a round's rollouts (warm containers), opened on the
            # first program.
            self._sandbox = self.services.sandbox_for(self)
        return self._sandbox
