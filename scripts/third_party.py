"""Write THIRD_PARTY.md: the licence of everything Solo runs, read from what is installed.

Lists every distribution in Solo's runtime dependency closure (``solo``'s Requires-Dist,
followed transitively, extras left out: test and lint tools are not shipped), each with the
licence its metadata declares, and every model in models/catalog.toml with its licence and
licence note. `make third-party` runs it and `make setup` does too, so the file follows the
installed versions.

A licence comes from, in order: the License-Expression field (PEP 639), a one-line License
field, the ``License ::`` classifiers, the first line of a License field that holds the
whole text, and last `OVERRIDES`, for the few distributions whose metadata says nothing.
Anything still unknown is an error (exit 1, named on stderr): a dependency whose licence
nobody checked should not ship unnoticed.

    python scripts/third_party.py              # write THIRD_PARTY.md at the repository root
    python scripts/third_party.py --output -   # print it instead
"""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import sys
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

from packaging.requirements import Requirement

REPO_ROOT = Path(__file__).resolve().parent.parent
CATALOG = REPO_ROOT / "models" / "catalog.toml"
OUTPUT = REPO_ROOT / "THIRD_PARTY.md"
ROOT_DISTRIBUTION = "solo"

OVERRIDES: dict[str, tuple[str, str]] = {
    # name: (licence, where it was read), for metadata that declares none.
    "cel-python": ("Apache-2.0", "the wheel's licenses/LICENSE file (Apache License 2.0)"),
    "crewai": ("MIT", "https://github.com/crewAIInc/crewAI/blob/main/LICENSE"),
    "crewai-cli": ("MIT", "https://github.com/crewAIInc/crewAI/blob/main/LICENSE (monorepo)"),
    "crewai-core": ("MIT", "https://github.com/crewAIInc/crewAI/blob/main/LICENSE (monorepo)"),
}

SHORT_LICENCE = 80
"""A License field longer than this (or on several lines) is the licence text itself."""


@dataclass(frozen=True)
class Dependency:
    name: str
    version: str
    licence: str | None
    source: str
    """Where the licence was read: a metadata field, or the override's reference."""


@dataclass(frozen=True)
class Model:
    id: str
    role: str
    licence: str | None
    note: str


def normalise(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def licence_of(name: str, metadata: Message) -> tuple[str | None, str]:
    """The licence `metadata` declares for distribution `name`, and where it was found."""
    expression = (metadata.get("License-Expression") or "").strip()
    if expression:
        return expression, "License-Expression"
    field = (metadata.get("License") or "").strip()
    if field.upper() == "UNKNOWN":  # what old setuptools writes when nothing was given
        field = ""
    if field and "\n" not in field and len(field) <= SHORT_LICENCE:
        return field, "License"
    prefix = "License :: "
    classifiers = [
        c.removeprefix(prefix).removeprefix("OSI Approved :: ")
        for c in metadata.get_all("Classifier") or []
        if c.startswith(prefix)
    ]
    if classifiers:
        return "; ".join(classifiers), "classifier"
    if field:
        return field.splitlines()[0].strip(), "License (first line)"
    if normalise(name) in OVERRIDES:
        licence, source = OVERRIDES[normalise(name)]
        return licence, f"override: {source}"
    return None, "nothing declared"


def runtime_closure(root: str = ROOT_DISTRIBUTION) -> list[Dependency]:
    """Every installed distribution `root` needs at run time (itself excluded), by name.

    `root`'s own extras (``dev``: test and lint tools) are left out; an extra a requirement
    asks for (``psycopg[binary]``) is followed, since it is installed to run."""
    found: dict[str, Dependency] = {}
    visited: set[tuple[str, str]] = set()
    waiting: list[tuple[str, str]] = [(root, "")]
    while waiting:
        name, extra = waiting.pop()
        key = normalise(name)
        if (key, extra) in visited:
            continue
        visited.add((key, extra))
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            found[key] = Dependency(key, "not installed", None, "not installed")
            continue
        licence, source = licence_of(key, distribution.metadata)  # type: ignore[arg-type]
        found[key] = Dependency(key, distribution.version, licence, source)
        for line in distribution.requires or []:
            requirement = Requirement(line)
            marker = requirement.marker
            if marker is None or marker.evaluate({"extra": extra}):
                waiting += [(requirement.name, wanted) for wanted in ("", *requirement.extras)]
    found.pop(normalise(root))
    return sorted(found.values(), key=lambda dependency: dependency.name)


def catalog_models(text: str) -> list[Model]:
    """The models a catalog (models/catalog.toml's text) lists, with their licences."""
    return [
        Model(
            id=entry["id"],
            role=entry.get("role", ""),
            licence=entry.get("licence") or None,
            note=entry.get("licence_note", ""),
        )
        for entry in tomllib.loads(text).get("model", [])
    ]


def unknown(dependencies: Iterable[Dependency], models: Iterable[Model]) -> list[str]:
    """Everything whose licence is not known, one line each."""
    return [f"dependency {d.name} {d.version}" for d in dependencies if d.licence is None] + [
        f"model {m.id}" for m in models if m.licence is None
    ]


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(dependencies: Sequence[Dependency], models: Sequence[Model]) -> str:
    lines = [
        "# Third-party licences",
        "",
        "Generated by `scripts/third_party.py` (`make third-party`) from the installed",
        "distributions' metadata and `models/catalog.toml`; do not edit by hand. Solo itself",
        "is MIT (see LICENSE); the README's Licence section says what the GPL-3.0 dependency",
        "(piper-tts) means for redistributing it.",
        "",
        f"## Python distributions ({len(dependencies)}, Solo's runtime dependency closure)",
        "",
        "| distribution | version | licence | read from |",
        "| --- | --- | --- | --- |",
        *(
            f"| {d.name} | {d.version} | {cell(d.licence or 'UNKNOWN')} | {cell(d.source)} |"
            for d in dependencies
        ),
        "",
        f"## Models ({len(models)}, models/catalog.toml)",
        "",
        "Wake-word models are not in the catalog: pvporcupine and openwakeword carry them",
        "and are listed above.",
        "",
        "| model | role | licence | note |",
        "| --- | --- | --- | --- |",
        *(
            f"| {m.id} | {m.role} | {cell(m.licence or 'UNKNOWN')} | {cell(m.note)} |"
            for m in models
        ),
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(OUTPUT), help="where to write it; - for stdout")
    args = parser.parse_args(argv)
    dependencies = runtime_closure()
    models = catalog_models(CATALOG.read_text(encoding="utf-8"))
    missing = unknown(dependencies, models)
    if missing:
        print(
            "third_party: no known licence for: "
            + ", ".join(missing)
            + " (add it to OVERRIDES in scripts/third_party.py with its source, "
            "or a licence to models/catalog.toml)",
            file=sys.stderr,
        )
        return 1
    text = render(dependencies, models)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        print(
            f"third_party: wrote {args.output} ({len(dependencies)} distributions, "
            f"{len(models)} models)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
