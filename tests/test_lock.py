"""requirements.lock: the versions set-up installs (Makefile, `make lock`).

A dependency added to pyproject.toml and not locked would be installed at whatever is newest
on the day; one locked outside pyproject.toml's range could never be installed; and an
environment that differs from the lock is not the one the suite is meant to pass with.
"""

from __future__ import annotations

import importlib.metadata
import tomllib

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from solo_actors.config import REPO_ROOT

LOCK = REPO_ROOT / "requirements.lock"
HOW_TO_FIX = "run `make lock`, then `make setup`, and commit requirements.lock"


def locked() -> list[tuple[str, Version, Marker | None]]:
    """(name, version, marker) of every pin in the lock."""
    pins = []
    for line in LOCK.read_text("utf-8").splitlines():
        if not line or line.startswith((" ", "#", "-")):
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", line
        pins.append((canonicalize_name(requirement.name), Version(specifier.version),
                     requirement.marker))  # fmt: skip
    return pins


def declared() -> list[Requirement]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    return [Requirement(text) for text in [*project["dependencies"],
                                           *project["optional-dependencies"]["dev"]]]  # fmt: skip


def test_every_declared_dependency_is_locked_within_its_range() -> None:
    pins = locked()
    assert len(pins) > 100, "the lock holds the whole dependency closure"
    for requirement in declared():
        versions = [v for name, v, _ in pins if name == canonicalize_name(requirement.name)]
        assert versions, f"{requirement.name} is not in requirements.lock: {HOW_TO_FIX}"
        for version in versions:
            assert requirement.specifier.contains(version, prereleases=True), (
                f"requirements.lock pins {requirement.name} {version}, outside pyproject.toml's "
                f"{requirement.specifier}: {HOW_TO_FIX}"
            )


def test_the_environment_is_the_locked_one() -> None:
    for name, version, marker in locked():
        if marker is not None and not marker.evaluate():
            continue  # another platform's or Python's pin
        try:
            installed = Version(importlib.metadata.version(name))
        except importlib.metadata.PackageNotFoundError:
            continue  # needed by no package installed here
        assert installed == version, (
            f"{name} {installed} is installed, requirements.lock says {version}: run `make setup`"
        )
