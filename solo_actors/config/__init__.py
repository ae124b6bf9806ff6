"""Solo's configuration: typed sections, layered TOML profiles, environment overrides."""

from solo_actors.config.loader import (
    CONFIG_DIR,
    REPO_ROOT,
    ConfigError,
    Layered,
    load_config,
    load_layers,
)
from solo_actors.config.schema import Config, SatelliteConfig

__all__ = [
    "CONFIG_DIR",
    "REPO_ROOT",
    "Config",
    "ConfigError",
    "Layered",
    "SatelliteConfig",
    "load_config",
    "load_layers",
]
