"""The container image a cluster job runs: herd's Dockerfile on a NeMo image, and the
dry run of ``herd train`` and ``herd build-image`` writing nothing."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from herd.core.errors import ConfigError
from herd.plugins.nemo.image import dockerignore, extra_requirements, image_build, is_stock_image

REPO = Path(__file__).resolve().parents[3]


def test_dockerfile_installs_herd_and_its_extras_on_the_base_image():
    build = image_build("nvcr.io/nvidia/nemo:25.09", "reg.example/herd:1", ("curation", "train"), "/opt/herd")
    text = build.dockerfile
    assert text.splitlines()[2] == "FROM nvcr.io/nvidia/nemo:25.09"
    assert "COPY . /opt/herd" in text and "pip install --no-cache-dir --no-deps -e /opt/herd" in text
    assert "'pyarrow~=26.0.1'" in text and "'transformers~=5.23.0'" in text  # the curation and train extras
    assert "faiss" not in text  # judges was not chosen
    # NVIDIA's CUDA torch is held, never replaced by herd's pin
    assert "torch==" not in text and "-c /tmp/held.txt" in text
    assert build.command(Path("/x/Dockerfile")) == ["docker", "build", "-f", "/x/Dockerfile", "-t",
                                                    "reg.example/herd:1", str(REPO)]
    assert "runs/" in dockerignore().splitlines()


def test_unknown_extra_and_missing_tag_are_config_errors():
    with pytest.raises(ConfigError, match="unknown herd extra"):
        extra_requirements(("curation", "nope"))
    with pytest.raises(ConfigError, match="--tag"):
        image_build("nvcr.io/nvidia/nemo:25.09", "", (), "/opt/herd")


def test_stock_images_are_recognised():
    assert is_stock_image("nvcr.io/nvidia/nemo:25.09") and is_stock_image("nvidia/nemo")
    assert is_stock_image("nvcr.io/nvidia/nemo-automodel:25.11")
    assert not is_stock_image("reg.example/herd:1") and not is_stock_image("nvcr.io/nvidia/nemo/herd:1")


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "cli.py"), *args], capture_output=True, text=True,
                          timeout=600, cwd=cwd, env={**os.environ})


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.slow
def test_build_image_command_dry_run_writes_nothing_then_writes_the_dockerfile(tmp_path):
    out = _cli("build-image", "--tag", "reg.example/herd:1", "--output", str(tmp_path / "image"), "--dry-run",
               cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "FROM nvcr.io/nvidia/nemo:25.09" in out.stdout and "docker build -f" in out.stdout
    assert _tree(tmp_path) == []
    out = _cli("build-image", "--tag", "reg.example/herd:1", "--output", str(tmp_path / "image"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert _tree(tmp_path) == ["image", "image/Dockerfile", "image/Dockerfile.dockerignore"]
    assert "--set nemo.container_image=reg.example/herd:1" in out.stdout


@pytest.mark.slow
@pytest.mark.parametrize("executor", ["slurm", "docker", "local"])
def test_train_dry_run_writes_nothing(tmp_path, executor):
    pytest.importorskip("nemo_run")
    args = ["train", "--backend", "nemo", "--executor", executor, "--dry-run", "--set", "nemo.slurm_account=llm",
            "--set", "nemo.container_image=reg.example/herd:1"]
    args += ["--profile", "full"] if executor == "slurm" else ["--profile", "quick", "--set", "pretrain.dp=2"]
    out = _cli(*args, cwd=tmp_path)  # the run directory is runs/<name> under the working directory
    assert out.returncode == 0, out.stderr[-3000:]
    assert _tree(tmp_path) == []
    assert out.stdout.startswith("dry run:") and "job herd-" in out.stdout
    assert "[pretrain]" not in out.stdout  # the config only with --show-config
