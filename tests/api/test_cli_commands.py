"""`solo token` and `solo status` without a running assistant."""

from __future__ import annotations

import os
import stat

import pytest

from solo_actors.api.auth import TokenStore
from solo_actors.cli import main
from tests.conftest import ConfigFactory


@pytest.fixture
def var_env(make_config: ConfigFactory, monkeypatch: pytest.MonkeyPatch) -> TokenStore:
    config = make_config()
    monkeypatch.setenv("SOLO__SOLO__VAR_DIR", str(config.solo.var_path()))
    monkeypatch.setenv("SOLO__API__PORT", "9")  # the discard port: nothing answers there
    monkeypatch.delenv("SOLO_TOKEN", raising=False)
    return TokenStore(config.solo.var_path(config.api.tokens_file))


def test_token_create_prints_it_once_and_keeps_only_its_hash(
    var_env: TokenStore, capsys: pytest.CaptureFixture[str]
) -> None:
    command = ["token", "create", "--scope", "control", "--label", "ci", "--profile", "test"]
    assert main(command) == 0
    captured = capsys.readouterr()
    token = captured.out.strip()
    assert token.startswith("solo_") and len(token) > 40 and "\n" not in token
    assert "shown only this once" in captured.err and token not in captured.err
    entry = var_env.authenticate(token)
    assert entry is not None and entry.scope == "control" and entry.label == "ci"
    assert token not in var_env.path.read_text()
    assert stat.S_IMODE(os.stat(var_env.path).st_mode) == 0o600
    assert main(["token", "list", "--profile", "test"]) == 0
    listing = capsys.readouterr().out
    assert entry.id in listing and "control" in listing and token not in listing
    assert main(["token", "revoke", entry.id, "--profile", "test"]) == 0
    assert var_env.authenticate(token) is None
    assert main(["token", "revoke", "nope", "--profile", "test"]) == 1


def test_token_create_refuses_an_unknown_scope(var_env: TokenStore) -> None:
    with pytest.raises(SystemExit):
        main(["token", "create", "--scope", "root", "--profile", "test"])


def test_status_says_the_assistant_is_not_running(
    var_env: TokenStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--profile", "test"]) == 1
    assert "the assistant is not running" in capsys.readouterr().err
