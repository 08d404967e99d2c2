"""Only computes the package list: the repository root is the package ``herd``, so every
sub-package found here is prefixed with ``herd.`` (pyproject.toml maps ``herd`` to ``.``)."""

from setuptools import find_packages, setup

SUBPACKAGES = find_packages(".", include=["core", "core.*", "lib", "lib.*", "plugins", "plugins.*"])

setup(
    packages=["herd"] + [f"herd.{name}" for name in SUBPACKAGES],
    package_data={"herd": ["registry.toml", "configs/*.toml", "data/**/*"], "": ["*.toml", "*.txt", "*.json", "*.jsonl", "*.gz"]},
    include_package_data=True,
)
