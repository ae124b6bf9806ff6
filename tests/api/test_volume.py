"""How loud Solo speaks, by voice and over the API: "turn it down", "volume 3", "maximum
volume", ``GET``/``POST /volume``; the level is the speaker's, said back in each reply,
refused clearly past its ends, and kept across a restart of the whole assistant."""

from __future__ import annotations

from pathlib import Path

from tests.api.apikit import RunningApi, skill_reply, start_assistant


def said(api: RunningApi, text: str) -> str:
    return skill_reply(api, text, "volume.")


def speaker_figure(api: RunningApi) -> object:
    node = api.node("solo/voice/speaker")
    assert node is not None, "the test profile's tree has a speaker"
    return node.figures["volume"]


def test_the_volume_is_set_by_voice_and_api_and_kept_across_a_restart(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    api = start_assistant(var_dir)
    try:
        loudest = api.get("/volume", scope="read")
        assert loudest.json() == {"room": None, "level": 10, "before": 10}, loudest.text
        assert said(api, "Turn it down a bit.") == "Volume 9."
        assert said(api, "quieter please") == "Volume 8."
        set_by_api = api.post("/volume", scope="control", json={"level": 4})
        assert set_by_api.json() == {"room": None, "level": 4, "before": 8}, set_by_api.text
        assert said(api, "Louder.") == "Volume 5."
        assert said(api, "Set the volume to 30%.") == "Volume 3."
        assert said(api, "Maximum volume.") == "Volume 10."
        assert said(api, "Turn it up.") == "Volume 10: that's as loud as I go."
        assert said(api, "Volume 0.").startswith("Volume 1: that's as quiet as I go.")
        assert said(api, "Set the volume to 200 percent.") == (
            "The volume goes from 1 to 10, or up to 100 percent."
        )
        assert said(api, "Volume 3.") == "Volume 3."
        assert said(api, "What is the volume?") == "Volume 3."
        assert speaker_figure(api) == 3
        # Bad input is refused naming what was wrong; the level stays.
        too_loud = api.post("/volume", scope="control", json={"level": 11})
        assert too_loud.status_code == 400 and "level" in too_loud.json()["error"], too_loud.text
        no_room = api.post("/volume", scope="control", json={"level": 5, "room": "attic"})
        assert no_room.status_code == 404 and "attic" in no_room.json()["error"], no_room.text
        assert api.get("/volume?room=attic", scope="read").status_code == 404
        assert api.post("/volume", scope="read", json={"level": 5}).status_code == 403
        assert api.get("/volume", scope="read").json()["level"] == 3
    finally:
        api.stop()
    again = start_assistant(var_dir)
    try:
        assert again.get("/volume", scope="read").json()["level"] == 3
        assert speaker_figure(again) == 3
    finally:
        again.stop()
