"""Rollouts: K trajectories per prompt, where a model turn may be answered by an
environment (a capability's sandbox, tool or step checker) and the model goes on.

A rollout samples a model turn (``Generator.chat``), asks the environments that apply to
the prompt (``herd_register_environments``; the first, in name order, that returns an
answer is used), appends their answer and samples again, until the model's turn gets no
answer or ``[posttrain] rollout_max_steps`` model turns were taken. How it ended is the
trajectory's ``finish``:

* ``"end_of_turn"``: the model ended its turn and no environment answered;
* ``"end_of_message"``: the model waited for a tool's result (``<|eom_id|>``) that no
  environment gave;
* ``"length"``: a turn hit ``max_new_tokens`` (the rollout stops there);
* ``"step_cap"``: an environment answered the last allowed turn; the answer is not
  appended, so every trajectory ends with a model turn (what SFT and DPO train on).

Rejection sampling and online DPO then judge whole trajectories (``Judged``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from herd.core.errors import StageError
from herd.core.pipeline import StageContext
from herd.core.protocols import ChatReply, Environment, Generator, PromptEnvironment, SamplingParams
from herd.core.records import ChatMessage, SFTRow, Trajectory
from herd.core.services import Services


@dataclass
class Prompt:
    """A prompt to sample for: its messages, where it came from, and its reference metadata."""

    id: str
    messages: list[ChatMessage]
    capability: str
    category: str
    metadata: dict[str, Any] = field(default_factory=dict)

    def as_row(self, turns: list[ChatMessage] | None = None) -> SFTRow:
        """The prompt (and a trajectory's turns) as the row environments and judges read."""
        return SFTRow(id=self.id, messages=self.messages + list(turns or []), capability=self.capability,
                      category=self.category, metadata=self.metadata)


def prompts_from_sft(rows: list[SFTRow]) -> list[Prompt]:
    """Each row's conversation up to where the model's part starts: its first assistant
    turn that an environment answered (a tool's result follows it), so that the whole
    trajectory is sampled again through the environments; else its last assistant turn."""
    out = []
    for row in rows:
        messages = row.messages
        turns = [i for i, m in enumerate(messages) if m.role == "assistant"]
        answered = [i for i in turns if i + 1 < len(messages) and messages[i + 1].role not in ("assistant", "user")]
        start = answered[0] if answered else turns[-1]
        out.append(Prompt(row.id, messages[:start], row.capability, row.category, dict(row.metadata)))
    return out


class Environments:
    """The registered environments (``[posttrain] environments``; empty: every one),
    built once per round with the round's services."""

    def __init__(self, ctx: StageContext, names: list[str], services: Services):
        wanted = names or ctx.registry.names("environments")
        self.named: list[tuple[str, Environment]] = []
        for name in wanted:
            env = ctx.build("environments", name, services)
            if not isinstance(env, Environment):
                plugin = ctx.registry.get("environments", name).plugin
                raise StageError(f"environment '{name}' (plugin '{plugin}') has no applies(prompt) and "
                                 "respond(conversation) methods (herd.core.protocols.Environment)")
            self.named.append((name, env))

    @classmethod
    def of(cls, named: list[tuple[str, Environment]]) -> "Environments":
        out = cls.__new__(cls)
        out.named = list(named)
        return out

    def for_prompt(self, prompt: Prompt) -> list[Environment]:
        """The environments that apply to ``prompt``, each started for it where it depends
        on the prompt (``PromptEnvironment``)."""
        row = prompt.as_row()
        return [env.start(row) if isinstance(env, PromptEnvironment) else env
                for _, env in self.named if env.applies(row)]


@dataclass
class Sampled:
    """A prompt's rollouts (failed and empty ones already in the ledger)."""

    prompt: Prompt
    trajectories: list[Trajectory]


@dataclass
class _Running:
    prompt_index: int
    slot: int  # which of the prompt's K samples: trajectories keep their sampling order
    trajectory: Trajectory
    environments: list[Environment]
    steps: int = 0


Drop = Callable[[str, str], None]  # (prompt id, reason)


def rollouts(
    prompts: list[Prompt],
    generator_of: Callable[[Prompt], Generator],
    environments: Environments,
    params: SamplingParams,
    max_steps: int,
    steer: Callable[[Prompt], list[ChatMessage]],
    drop: Drop,
) -> list[Sampled]:
    """``params.n`` rollouts per prompt. ``generator_of`` picks each prompt's generator
    (a capability's expert or the policy), ``steer`` the messages the generator sees (a
    system prompt for sampling only; trajectories keep the original prompt)."""
    envs = [environments.for_prompt(p) for p in prompts]
    done: list[dict[int, Trajectory]] = [{} for _ in prompts]
    first = _chat_grouped(list(range(len(prompts))), lambda i: steer(prompts[i]), lambda i: generator_of(prompts[i]),
                          params)
    running: list[_Running] = []
    for i, replies in enumerate(first):
        if isinstance(replies, str):
            drop(prompts[i].id, f"generation_failed: {replies}")
            continue
        for slot, reply in enumerate(replies):
            running.append(_Running(i, slot, Trajectory(prompts[i].messages), envs[i]))
            _advance(running[-1], reply, max_steps, done, drop, prompts)
    turn = 1
    while running := [r for r in running if r.trajectory.finish == _GOING]:
        turn += 1
        step_params = SamplingParams(temperature=params.temperature, top_p=params.top_p, max_tokens=params.max_tokens,
                                     n=1, stop=list(params.stop), seed=_turn_seed(params.seed, turn))
        replies = _chat_grouped(list(range(len(running))),
                                lambda k: steer(prompts[running[k].prompt_index]) + running[k].trajectory.turns,
                                lambda k: generator_of(prompts[running[k].prompt_index]), step_params)
        for run, reply in zip(running, replies):
            if isinstance(reply, str):
                run.trajectory.finish = "generation_failed"
                drop(prompts[run.prompt_index].id, f"generation_failed: turn {turn}: {reply}")
                continue
            _advance(run, reply[0], max_steps, done, drop, prompts)
    return [Sampled(p, [slots[k] for k in sorted(slots)]) for p, slots in zip(prompts, done) if slots]


_GOING = "running"


def _advance(run: _Running, reply: ChatReply, max_steps: int, done: list[dict[int, Trajectory]], drop: Drop,
             prompts: list[Prompt]) -> None:
    """Append the model's turn; end the trajectory or append an environment's answer."""
    traj = run.trajectory
    run.steps += 1
    message = reply.message
    if not message.content.strip() and not message.tool_calls:
        traj.finish = "empty"
        drop(prompts[run.prompt_index].id, "empty_sample")
        return
    traj.turns.append(message)
    answer = None
    if reply.finish != "length":
        answer = next((a for a in (env.respond(traj.messages) for env in run.environments) if a is not None), None)
    if answer is None:
        traj.finish = reply.finish
    elif run.steps >= max_steps:
        traj.finish = "step_cap"
    else:
        traj.turns.extend(answer)
        traj.finish = _GOING
        return
    done[run.prompt_index][run.slot] = traj


def _turn_seed(seed: int | None, turn: int) -> int | None:
    return None if seed is None else (seed * 1_000_003 + turn) % (2**31 - 1)


def _chat_grouped(indices: list[int], conversation: Callable[[int], list[ChatMessage]],
                  generator: Callable[[int], Generator], params: SamplingParams) -> list[list[ChatReply] | str]:
    """One ``chat`` call per generator; per index its replies, or why it got none."""
    groups: dict[int, tuple[Generator, list[int]]] = {}
    for i in indices:
        gen = generator(i)
        groups.setdefault(id(gen), (gen, []))[1].append(i)
    out: list[list[ChatReply] | str] = [[] for _ in indices]
    for gen, members in groups.values():
        replies = gen.chat([conversation(i) for i in members], params)
        if len(replies) != len(members):
            raise StageError(f"generator {type(gen).__name__} returned {len(replies)} results for "
                             f"{len(members)} conversations; Generator.chat returns one list per conversation")
        reasons = failure_reasons(gen)
        for j, i in enumerate(members):
            out[i] = replies[j] if replies[j] else reasons.get(j, "generator returned no reply")
    return out


def failure_reasons(generator: Generator) -> dict[int, str]:
    """Why the last call gave some conversations no reply, where the backend says so (the
    ``openai`` backend records ``last_failures``: timeouts, refusals)."""
    return {f.index: f.reason for f in getattr(generator, "last_failures", [])}
