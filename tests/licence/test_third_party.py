"""scripts/third_party.py: every runtime dependency and catalog model has a known licence.

The first tests read the real environment and catalog, so a new dependency (or model)
whose licence nobody checked fails here; the others show the script refuses one.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from email.message import Message
from pathlib import Path
from types import ModuleType

import pytest

from solo_actors.config import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "third_party.py"


@pytest.fixture(scope="module")
def third_party() -> ModuleType:
    """The script as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("third_party", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_every_runtime_dependency_has_a_known_licence(third_party: ModuleType) -> None:
    dependencies = {d.name: d for d in third_party.runtime_closure()}
    assert {"pykka", "piper-tts", "llama-cpp-python", "crewai", "psycopg-binary"} <= set(
        dependencies
    )
    assert "pytest" not in dependencies  # the dev extra is not shipped
    assert "solo" not in dependencies
    assert [name for name, d in dependencies.items() if d.licence is None] == []
    assert dependencies["piper-tts"].licence == "GPL-3.0-or-later"


def test_every_catalog_model_has_a_known_licence(third_party: ModuleType) -> None:
    models = third_party.catalog_models(third_party.CATALOG.read_text(encoding="utf-8"))
    assert len(models) >= 5
    assert [m.id for m in models if not m.licence] == []


def test_every_override_is_still_needed(third_party: ModuleType) -> None:
    """An override only fills a gap: one for a distribution whose metadata now declares a
    licence (or that is no longer a dependency) would hide what the metadata says."""
    dependencies = {d.name: d for d in third_party.runtime_closure()}
    for name in third_party.OVERRIDES:
        assert dependencies[name].source.startswith("override:"), name


def test_a_dependency_without_a_licence_is_refused(third_party: ModuleType) -> None:
    bare = Message()
    bare["Name"] = "mystery"
    bare["License"] = "UNKNOWN"
    assert third_party.licence_of("mystery", bare) == (None, "nothing declared")
    dependency = third_party.Dependency("mystery", "1.0", None, "nothing declared")
    model = third_party.catalog_models('[[model]]\nid = "nameless"\nrole = "llm"\n')[0]
    assert third_party.unknown([dependency], [model]) == [
        "dependency mystery 1.0",
        "model nameless",
    ]


def test_licences_are_read_in_order_of_precision(third_party: ModuleType) -> None:
    metadata = Message()
    metadata["License"] = "Permission is hereby granted...\n(the whole MIT text)"
    metadata["Classifier"] = "License :: OSI Approved :: MIT License"
    assert third_party.licence_of("x", metadata) == ("MIT License", "classifier")
    metadata["License-Expression"] = "MIT"
    assert third_party.licence_of("x", metadata) == ("MIT", "License-Expression")


def test_the_script_writes_the_file(tmp_path: Path) -> None:
    output = tmp_path / "THIRD_PARTY.md"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    text = output.read_text(encoding="utf-8")
    assert "| piper-tts | " in text and "GPL-3.0-or-later" in text
    assert "| whisper-tiny.en | stt | MIT |" in text
    assert "UNKNOWN" not in text
