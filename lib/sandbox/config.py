"""The ``[sandbox]`` config section: which backend runs untrusted programs, and its limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from herd.core.config import positive

IMAGE_VERSION = "1"  # bump with build_image.sh's HERD_SANDBOX_VERSION when the image changes


@dataclass
class SandboxConfig:
    # "auto" picks docker when a daemon answers and the image exists, else bwrap when
    # bubblewrap can create namespaces; "unisolated" must be named *and* allowed below.
    backend: str = "auto"
    # Running generated code without isolation is refused unless this is true.
    allow_unisolated: bool = False
    image: str = f"herd-sandbox:{IMAGE_VERSION}"
    # Warm containers kept for reuse (programs run in parallel, one per container).
    pool_size: int = positive(2)
    timeout_s: float = positive(10.0)
    memory_mb: int = positive(512)
    pids: int = positive(64)
    cpus: float = positive(1.0)
    # stdout + stderr together; the program is killed when it writes more.
    output_limit_bytes: int = positive(1_000_000)
    # Size of the tmpfs work dir (and of any single file the program writes).
    workdir_mb: int = positive(64)

    PROFILES: ClassVar[dict[str, dict]] = {
        "quick": {"pool_size": 2, "timeout_s": 5.0},
        "full": {"pool_size": 16, "timeout_s": 10.0},
    }

    def limits(self) -> dict[str, int]:
        """rlimits applied to every program (as a dict, the runner is stdlib-only)."""
        return {
            "memory_bytes": self.memory_mb * 1024 * 1024,
            "file_bytes": self.workdir_mb * 1024 * 1024,
            "cpu_s": int(self.timeout_s) + 1,
        }
