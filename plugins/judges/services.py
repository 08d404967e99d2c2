"""Finding the generation backend in the ``services`` a judge, synthesizer or evaluator
factory receives.

The core hands factories a ``services`` object; herd's judges only need its generator
(``protocols.Generator``). It may be given as an attribute (``services.generator``), a
mapping entry (``services["generator"]``) or be the generator itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from herd.core.errors import ConfigError
from herd.core.protocols import Generator
from herd.core.services import generator_for_model


def find_generator(services: Any) -> Generator | None:
    if services is None:
        return None
    if isinstance(services, Mapping):
        found = services.get("generator")
    elif hasattr(services, "generator"):
        found = services.generator
    else:
        found = services
    return found if isinstance(found, Generator) else None


def require_generator(services: Any, who: str, why: str) -> Generator:
    """The generator, or a ConfigError naming the component that needs one and why."""
    generator = find_generator(services)
    if generator is None:
        raise ConfigError(
            f"{who} needs a generation backend ({why}) but none was given in services; "
            "configure a generator or change this component's method"
        )
    return generator


def can_build_generator(services: Any) -> bool:
    """Whether ``generator_for`` can give a generator from these services."""
    return find_generator(services) is not None or (
        getattr(services, "registry", None) is not None and getattr(services, "config", None) is not None
    )


def generator_for(services: Any, model_dir: Path, backend: str, who: str) -> Generator:
    """A generator for the model in ``model_dir``: the one in ``services`` (post-training
    hands the round's policy), else the registry's ``backend`` generator pointed at
    ``model_dir`` (the ``evaluate`` stage hands its stage context, which has ``registry``
    and ``config``)."""
    generator = find_generator(services)
    if generator is not None:
        return generator
    registry, config = getattr(services, "registry", None), getattr(services, "config", None)
    if registry is None or config is None:
        raise ConfigError(f"{who} needs a generation backend: services has no generator, and no registry and "
                          f"config to build the '{backend}' generator for {model_dir}")
    return generator_for_model(services, backend, model_dir)


def user_text(row) -> str:
    """The user's turns of an SFT row, joined (what topic and difficulty judge)."""
    return "\n\n".join(m.content for m in row.messages if m.role == "user")


def last_response(row) -> str:
    for message in reversed(row.messages):
        if message.role == "assistant":
            return message.content
    return ""


def conversation_text(row) -> str:
    return "\n\n".join(f"{m.role}: {m.content}" for m in row.messages)
