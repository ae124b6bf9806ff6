"""Set-up's self-check of the installed llama.cpp: `python -m solo_actors.doctor.selfcheck`.

Decodes a few tokens of the smallest LLM on disk in a subprocess. Exit 0 when it works;
exit 1 with the cause (signal, stage, and the crashing native function when gdb is there)
when it does not, so scripts/llama-selfcheck.sh can rebuild with the conservative flags.
"""

from __future__ import annotations

import sys
from pathlib import Path

from solo_actors.doctor.checks import run_probe
from solo_actors.models.catalog import FileAsset, load_catalog

REPO_ROOT = Path(__file__).resolve().parents[2]


def smallest_llm_on_disk(models_dir: Path = REPO_ROOT / "models") -> Path | None:
    catalog = load_catalog(models_dir / "catalog.toml")
    llms = [
        asset for asset in catalog.models if asset.role == "llm" and isinstance(asset, FileAsset)
    ]
    for asset in sorted(llms, key=lambda asset: asset.size):
        path = models_dir / asset.entry
        if path.is_file():
            return path
    return None


def main() -> int:
    path = smallest_llm_on_disk()
    if path is None:
        print(
            "llama.cpp self-check: no LLM on disk; run `solo models pull --defaults`",
            file=sys.stderr,
        )
        return 1
    result = run_probe("llama.cpp self-check", "llm", str(path))
    if result.ok:
        print(f"==> llama.cpp self-check: pass ({path.name}: {result.detail})")
        return 0
    print(f"==> llama.cpp self-check FAILED on {path.name}: {result.detail}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
