"""Build a `Config` from layered TOML files and environment variables.

Layers, lowest first, each overriding the one before:

1. ``config/default.toml`` - every setting, commented;
2. the profile chain: ``config/profiles/NAME.toml`` and whatever it ``extends``;
3. an optional user file (``--config FILE``);
4. environment variables ``SOLO__SECTION__KEY=value``;
5. settings given on the command line, ``--set section.key=value``.

A value in the environment or on the command line is read as a TOML value when it parses as
one, else as a plain string: ``--set llm.n_threads=4`` is a number, ``--set llm.model=x`` text.

Every leaf value remembers which layer set it, so ``solo config show`` can say where a value
came from and a validation error can name the file that holds the bad key. Any problem is
raised as one `ConfigError` whose message is a single line: file, key path, what was expected.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import msgspec.inspect

from solo_actors.config.schema import REPO_ROOT, Config

CONFIG_DIR = REPO_ROOT / "config"
DEFAULT_PROFILE = "headless"
ENV_PREFIX = "SOLO__"
PROFILE_ENV = "SOLO_PROFILE"

Tree = dict[str, Any]


class ConfigError(Exception):
    """A configuration problem, phrased as one line that says what to fix."""


@dataclass
class Layered:
    """A merged config tree plus, for each leaf key path, the layer that set it."""

    tree: Tree = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def overlay(self, layer: Mapping[str, Any], source: str, prefix: str = "") -> None:
        for key, value in layer.items():
            path = f"{prefix}{key}"
            if isinstance(value, Mapping):
                self._subtree(prefix).setdefault(key, {})
                if not isinstance(self._subtree(prefix)[key], dict):
                    self._subtree(prefix)[key] = {}
                if not value:
                    self.sources[path] = source
                self.overlay(value, source, f"{path}.")
            else:
                self._subtree(prefix)[key] = value
                self.sources[path] = source

    def _subtree(self, prefix: str) -> Tree:
        node = self.tree
        for part in filter(None, prefix.split(".")):
            node = node[part]
        return node

    def value_at(self, path: str) -> Any:
        """The value at `path` ("skills.weekend[0]": an item of a list), or None."""
        node: Any = self.tree
        for part in filter(None, path.split(".")):
            name, index = path_part(part)
            if not isinstance(node, dict) or name not in node:
                return None
            node = node[name]
            if index is not None:
                if not isinstance(node, list) or index >= len(node):
                    return None
                node = node[index]
        return node

    def source_of(self, path: str) -> str:
        """The layer behind `path` (a list's, for one of its items), or behind the nearest
        leaf below it."""
        path = ".".join(path_part(part)[0] for part in path.split("."))
        if path in self.sources:
            return self.sources[path]
        below = [src for key, src in self.sources.items() if key.startswith(f"{path}.")]
        return below[-1] if below else "config"


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def read_toml(path: Path) -> Tree:
    shown = display_path(path)
    if not path.is_file():
        raise ConfigError(f"{shown}: file not found; check the path or create it")
    try:
        with path.open("rb") as stream:
            return tomllib.load(stream)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{shown}: TOML syntax error: {error}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{shown}: not UTF-8 text; save the file as UTF-8") from None


def available_profiles(config_dir: Path) -> list[str]:
    return sorted(path.stem for path in (config_dir / "profiles").glob("*.toml"))


def profile_chain(name: str, config_dir: Path) -> list[tuple[Path, Tree]]:
    """The profile and everything it extends, base first; cycles are an error."""
    chain: list[tuple[Path, Tree]] = []
    seen: list[str] = []
    current: str | None = name
    while current is not None:
        if current in seen:
            loop = " -> ".join([*seen, current])
            raise ConfigError(f"profile '{name}': extends cycle {loop}; remove one 'extends'")
        seen.append(current)
        path = config_dir / "profiles" / f"{current}.toml"
        if not path.is_file():
            known = ", ".join(available_profiles(config_dir)) or "none"
            raise ConfigError(
                f"{display_path(path)}: profile '{current}' not found (available: {known})"
            )
        layer = read_toml(path)
        parent = layer.pop("extends", None)
        if parent is not None and not isinstance(parent, str):
            raise ConfigError(f"{display_path(path)}: extends: expected a profile name string")
        chain.append((path, layer))
        current = parent
    return list(reversed(chain))


def parse_env_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        return raw


def single_key_layer(parts: list[str], raw: str) -> Tree:
    """``["llm", "n_threads"], "4"`` -> ``{"llm": {"n_threads": 4}}``."""
    layer: Tree = {parts[-1]: parse_env_value(raw)}
    for part in reversed(parts[:-1]):
        layer = {part: layer}
    return layer


def env_layer(environ: Mapping[str, str]) -> dict[str, Tree]:
    """One single-key layer per SOLO__A__B variable, so each keeps its own source name."""
    layers: dict[str, Tree] = {}
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX):
            continue
        parts = [part.lower() for part in name[len(ENV_PREFIX) :].split("__")]
        if not all(parts):
            raise ConfigError(f"environment {name}: empty key part; use SOLO__SECTION__KEY")
        layers[f"environment {name}"] = single_key_layer(parts, raw)
    return layers


def settings_layer(settings: Sequence[str]) -> dict[str, Tree]:
    """One single-key layer per ``--set KEY=VALUE``, in the order given (the last one wins)."""
    layers: dict[str, Tree] = {}
    for setting in settings:
        key, equals, raw = setting.partition("=")
        parts = key.strip().split(".")
        if not equals or not all(parts):
            raise ConfigError(
                f"--set {setting}: expected SECTION.KEY=VALUE, e.g. --set llm.n_threads=4 "
                "(the keys are in config/default.toml)"
            )
        layers[f"--set {setting}"] = single_key_layer(parts, raw.strip())
    return layers


_VALIDATION = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<path>[^`]*)`)?$")
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<field>[^`]+)`")


def explain_validation(error: msgspec.ValidationError, layered: Layered) -> ConfigError:
    match = _VALIDATION.match(str(error))
    what = match["what"] if match else str(error)
    path = (match["path"] or "").lstrip(".") if match else ""
    unknown = _UNKNOWN.match(what)
    if unknown:
        key = f"{path}.{unknown['field']}" if path else unknown["field"]
        return ConfigError(
            f"{layered.source_of(key)}: {key}: unknown setting; "
            "see config/default.toml for the valid keys"
        )
    if what.startswith("Object missing required field"):
        return ConfigError(f"config: {path or '<top>'}: {what.lower()}; add it to the config")
    got = layered.value_at(path)
    if isinstance(got, dict):
        # A check across a section's keys (its __post_init__): the message names them.
        return ConfigError(f"config: {what}")
    choices = allowed_values(path)
    expected = f"expected one of {', '.join(map(repr, choices))}" if choices else what.lower()
    # msgspec's "Expected `int`, got `str`" already says "got": give the value after it.
    joint = ":" if ", got" in expected else ", got"
    return ConfigError(f"{layered.source_of(path)}: {path}: {expected}{joint} {got!r}")


_INDEXED = re.compile(r"^(?P<name>[^\[]*)\[(?P<index>\d+)\]$")


def path_part(part: str) -> tuple[str, int | None]:
    """A part of msgspec's error path: ("weekend", 0) for "weekend[0]", (part, None) else."""
    indexed = _INDEXED.match(part)
    return (indexed["name"], int(indexed["index"])) if indexed else (part, None)


def allowed_values(path: str) -> tuple[object, ...]:
    """The choices of a Literal-typed setting (or of a list's item: "skills.weekend[0]"),
    for an error message; () for other types."""
    info: Any = msgspec.inspect.type_info(Config)
    for part in path.split("."):
        name, index = path_part(part)
        if not isinstance(info, msgspec.inspect.StructType):
            return ()
        fields = {field.name: field.type for field in info.fields}
        if name not in fields:
            return ()
        info = fields[name]
        if index is not None:
            if not isinstance(info, msgspec.inspect.ListType):
                return ()
            info = info.item_type
    if not isinstance(info, msgspec.inspect.LiteralType):
        return ()
    return tuple(sorted(value for value in info.values if isinstance(value, str)))


def load_layers(
    profile: str | None = None,
    user_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    config_dir: Path = CONFIG_DIR,
    settings: Sequence[str] = (),
) -> Layered:
    environ = os.environ if environ is None else environ
    name = profile or environ.get(PROFILE_ENV) or DEFAULT_PROFILE
    layered = Layered()
    default = config_dir / "default.toml"
    layered.overlay(read_toml(default), display_path(default))
    for path, layer in profile_chain(name, config_dir):
        layered.overlay(layer, display_path(path))
    if user_file is not None:
        layer = read_toml(user_file)
        if "extends" in layer:
            raise ConfigError(
                f"{display_path(user_file)}: extends: only profiles may extend; "
                "use --profile NAME together with --config FILE"
            )
        layered.overlay(layer, display_path(user_file))
    for source, layer in (env_layer(environ) | settings_layer(settings)).items():
        layered.overlay(layer, source)
    layered.tree["profile"] = name
    layered.sources["profile"] = (
        "--profile"
        if profile
        else (f"environment {PROFILE_ENV}" if environ.get(PROFILE_ENV) else "built-in default")
    )
    return layered


def load_config(
    profile: str | None = None,
    user_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    config_dir: Path = CONFIG_DIR,
    settings: Sequence[str] = (),
) -> Config:
    """Load and validate the config; raises `ConfigError` with a one-line message."""
    environ = os.environ if environ is None else environ
    layered = load_layers(profile, user_file, environ, config_dir, settings)
    try:
        config = msgspec.convert(layered.tree, Config)
    except msgspec.ValidationError as error:
        raise explain_validation(error, layered) from None
    check_environment(config, layered, environ)
    return config


def check_environment(config: Config, layered: Layered, environ: Mapping[str, str]) -> None:
    """What the config names in the environment is there: the remote llm's API key."""
    name = config.llm.remote.api_key_env
    if config.llm.engine == "openai" and name and not environ.get(name):
        raise ConfigError(
            f"{layered.source_of('llm.remote.api_key_env')}: llm.remote.api_key_env names "
            f"the environment variable {name}, which is not set (or empty); export "
            f'{name}=<the server\'s key> before starting Solo, or set api_key_env = "" for '
            "a server that needs no key"
        )
