"""The one exception type of the models package.

Every problem with a model - missing, corrupt, of the wrong kind, or a pull that failed - is
a `ModelError` whose message is a single line that names the file and says what to run, so
the CLI and the actors can show it as it is.
"""

from __future__ import annotations


class ModelError(Exception):
    """A model problem phrased as one line: which file, what is wrong, what to run."""


def pull_hint(model_id: str) -> str:
    """The fix for a missing or damaged catalog model, in the words every message uses."""
    return f"run: solo models pull {model_id}"
