"""Profile merging, extends chains, overrides and every bad-config case of the loader."""

from __future__ import annotations

import tomllib
from pathlib import Path

import msgspec
import pytest

from solo_actors.config import CONFIG_DIR, Config, ConfigError, load_config, load_layers
from solo_actors.config.schema import Section


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A copy of the shipped config folder that a test may add profiles to."""
    target = tmp_path / "config"
    write(target / "default.toml", (CONFIG_DIR / "default.toml").read_text())
    for profile in (CONFIG_DIR / "profiles").glob("*.toml"):
        write(target / "profiles" / profile.name, profile.read_text())
    return target


def test_default_profile_is_headless_with_json_logs() -> None:
    config = load_config(environ={})
    assert config.profile == "headless"
    assert config.log.format == "json"


@pytest.mark.parametrize("profile", ["headless", "dev", "prod", "test"])
def test_every_shipped_profile_loads(profile: str) -> None:
    assert load_config(profile, environ={}).profile == profile


def test_profile_overlays_default_and_keeps_the_rest() -> None:
    config = load_config("dev", environ={})
    assert (config.log.format, config.log.level) == ("console", "debug")
    assert config.supervisor.intensity == load_config(environ={}).supervisor.intensity


def test_extends_chain_applies_base_first(config_dir: Path) -> None:
    write(config_dir / "profiles/a.toml", '[log]\nlevel = "error"\nformat = "console"\n')
    write(config_dir / "profiles/b.toml", 'extends = "a"\n[log]\nlevel = "critical"\n')
    write(config_dir / "profiles/c.toml", 'extends = "b"\n[supervisor]\nintensity = 9\n')
    config = load_config("c", environ={}, config_dir=config_dir)
    assert (config.log.format, config.log.level, config.supervisor.intensity) == (
        "console",
        "critical",
        9,
    )
    layered = load_layers("c", environ={}, config_dir=config_dir)
    assert layered.source_of("log.format").endswith("profiles/a.toml")
    assert layered.source_of("log.level").endswith("profiles/b.toml")
    assert layered.source_of("supervisor.intensity").endswith("profiles/c.toml")


def test_prod_extends_headless() -> None:
    config = load_config("prod", environ={})
    assert (config.store.backend, config.log.format) == ("postgres", "json")


def test_profile_from_environment_and_flag_wins() -> None:
    assert load_config(environ={"SOLO_PROFILE": "dev"}).profile == "dev"
    assert load_config("test", environ={"SOLO_PROFILE": "dev"}).profile == "test"


def test_user_file_overlays_profile(tmp_path: Path) -> None:
    user = write(tmp_path / "mine.toml", "[supervisor]\nperiod = 30.0\n")
    config = load_config("dev", user_file=user, environ={})
    assert config.supervisor.period == 30.0
    assert config.log.level == "debug"


def test_environment_overrides_win_last(tmp_path: Path) -> None:
    user = write(tmp_path / "mine.toml", "[supervisor]\nintensity = 7\n")
    environ = {
        "SOLO__SUPERVISOR__INTENSITY": "11",
        "SOLO__LOG__LEVEL": "error",
        "SOLO__STORE__PG_DSN": "postgresql://solo@localhost/solo",
    }
    config = load_config("dev", user_file=user, environ=environ)
    assert config.supervisor.intensity == 11
    assert config.log.level == "error"
    assert config.store.pg_dsn == "postgresql://solo@localhost/solo"
    layered = load_layers("dev", user_file=user, environ=environ)
    assert layered.source_of("supervisor.intensity") == "environment SOLO__SUPERVISOR__INTENSITY"


def test_config_is_frozen() -> None:
    config = load_config(environ={})
    with pytest.raises(AttributeError):
        config.log.level = "debug"  # type: ignore[misc]


def test_default_toml_sets_every_field() -> None:
    """Every field of every section must appear in default.toml, so the file documents all."""
    with (CONFIG_DIR / "default.toml").open("rb") as stream:
        default = tomllib.load(stream)

    def check(struct: type[Section], table: dict[str, object], prefix: str) -> None:
        for field in msgspec.structs.fields(struct):
            if field.name == "profile":
                continue
            path = f"{prefix}{field.name}"
            assert field.name in table, f"{path} is missing from config/default.toml"
            if isinstance(field.type, type) and issubclass(field.type, Section):
                check(field.type, table[field.name], f"{path}.")  # type: ignore[arg-type]

    check(Config, default, "")


# --- bad configs: one line naming the file, the key path and what was expected -----------


def error_of(*args: object, **kwargs: object) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(*args, **kwargs)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    user = write(tmp_path / "bad.toml", "[log]\nlevle = 'debug'\n")
    message = error_of("dev", user_file=user, environ={})
    assert str(user) in message and "log.levle" in message and "unknown setting" in message


def test_unknown_section_names_it(tmp_path: Path) -> None:
    user = write(tmp_path / "bad.toml", "[logging]\nlevel = 'debug'\n")
    assert "bad.toml: logging: unknown setting" in error_of(user_file=user, environ={})


def test_wrong_type_names_file_key_and_expected(tmp_path: Path) -> None:
    user = write(tmp_path / "bad.toml", "[supervisor]\nintensity = 'many'\n")
    message = error_of(user_file=user, environ={})
    assert str(user) in message
    assert "supervisor.intensity" in message and "expected `int`" in message and "'many'" in message


def test_out_of_range_value(tmp_path: Path) -> None:
    user = write(tmp_path / "bad.toml", "[supervisor]\nperiod = -1.0\n")
    message = error_of(user_file=user, environ={})
    assert "supervisor.period" in message and "> 0" in message and str(user) in message


def test_invalid_choice(tmp_path: Path) -> None:
    user = write(tmp_path / "bad.toml", "[log]\nlevel = 'loud'\n")
    message = error_of(user_file=user, environ={})
    choices = "'critical', 'debug', 'error', 'info', 'warning'"
    assert f"log.level: expected one of {choices}, got 'loud'" in message


def test_an_invalid_choice_in_a_list_names_its_item_and_file(tmp_path: Path) -> None:
    user = write(tmp_path / "bad.toml", "[skills]\nweekend = ['saturday', 'funday']\n")
    message = error_of(user_file=user, environ={})
    assert str(user) in message
    assert "skills.weekend[1]: expected one of 'friday', 'monday'," in message
    assert message.endswith("got 'funday'")


def test_bad_environment_value_names_the_variable() -> None:
    message = error_of(environ={"SOLO__SUPERVISOR__INTENSITY": "lots"})
    assert "environment SOLO__SUPERVISOR__INTENSITY" in message
    assert "supervisor.intensity" in message


def test_unknown_environment_key() -> None:
    message = error_of(environ={"SOLO__LOG__COLOUR": "blue"})
    assert "SOLO__LOG__COLOUR" in message and "log.colour" in message


def test_missing_user_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    assert f"{missing}: file not found" in error_of(user_file=missing, environ={})


def test_missing_profile_lists_the_available_ones() -> None:
    message = error_of("nosuch", environ={})
    assert "profile 'nosuch' not found" in message and "headless" in message


def test_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    user = write(tmp_path / "bad.toml", "[log\nlevel = 'debug'\n")
    message = error_of(user_file=user, environ={})
    assert str(user) in message and "TOML syntax error" in message


def test_extends_cycle_is_rejected(config_dir: Path) -> None:
    write(config_dir / "profiles/x.toml", 'extends = "y"\n')
    write(config_dir / "profiles/y.toml", 'extends = "x"\n')
    message = error_of("x", environ={}, config_dir=config_dir)
    assert "extends cycle x -> y -> x" in message


def test_self_extends_is_a_cycle(config_dir: Path) -> None:
    write(config_dir / "profiles/me.toml", 'extends = "me"\n')
    assert "extends cycle me -> me" in error_of("me", environ={}, config_dir=config_dir)


def test_extends_of_missing_profile(config_dir: Path) -> None:
    write(config_dir / "profiles/orphan.toml", 'extends = "ghost"\n')
    assert "profile 'ghost' not found" in error_of("orphan", environ={}, config_dir=config_dir)


def test_user_file_may_not_extend(tmp_path: Path) -> None:
    user = write(tmp_path / "bad.toml", 'extends = "dev"\n')
    assert "only profiles may extend" in error_of(user_file=user, environ={})
