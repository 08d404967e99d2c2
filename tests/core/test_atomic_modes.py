"""Run files written atomically get the mode a plain ``open`` gives them: the umask is
respected (0644 under 022), not mkstemp's 0600."""

import os
import stat

import pytest

from herd.core import atomic


@pytest.fixture
def umask():
    saved = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(saved)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_atomic_writes_respect_the_umask(tmp_path, umask, mask, expected):
    umask(mask)
    atomic.write_text(tmp_path / "report.html", "<html></html>")
    atomic.write_json(tmp_path / "manifest.json", {"a": 1})
    with atomic.atomic_open(tmp_path / "model.safetensors", "wb", encoding=None) as handle:
        handle.write(b"\0" * 8)
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert _mode(plain) == expected
    for name in ("report.html", "manifest.json", "model.safetensors"):
        assert _mode(tmp_path / name) == expected, name


def test_umask_is_read_without_changing_it(umask):
    umask(0o027)
    assert atomic.current_umask() == 0o027
    assert os.umask(0o027) == 0o027


def test_a_failed_write_leaves_no_temporary_file(tmp_path, umask):
    with pytest.raises(RuntimeError), atomic.atomic_open(tmp_path / "out.json") as handle:
        handle.write("partial")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_files_another_library_wrote_get_the_umask_mode(tmp_path, umask):
    from safetensors.torch import save_file
    import torch

    umask(0o022)
    save_file({"w": torch.zeros(2)}, str(tmp_path / "model.safetensors"))
    (tmp_path / "hf").mkdir()
    save_file({"w": torch.zeros(2)}, str(tmp_path / "hf" / "model.safetensors"))
    atomic.umask_mode(tmp_path / "model.safetensors", tmp_path / "hf")
    assert _mode(tmp_path / "model.safetensors") == _mode(tmp_path / "hf" / "model.safetensors") == 0o644
