"""How fast Solo speaks, over the API and by voice through ``/ask``: ``GET``/``POST
/speaking-rate``, "speak slower", the ends said, bad input refused naming what was wrong.
(tests/wyoming/test_speaking_rate.py times the speech itself, and a restart.)"""

from __future__ import annotations

from tests.api.apikit import RunningApi, skill_reply


def said(api: RunningApi, text: str) -> str:
    return skill_reply(api, text, "speed.")


def test_the_rate_is_set_by_voice_and_api(api: RunningApi) -> None:
    normal = api.get("/speaking-rate", scope="read")
    assert normal.json() == {"percent": 100, "before": 100, "remote_voice": False}, normal.text
    assert said(api, "Speak slower, please.") == "I'm speaking at 80 percent of my normal speed."
    set_by_api = api.post("/speaking-rate", scope="control", json={"percent": 130})
    assert set_by_api.json() == {"percent": 130, "before": 80, "remote_voice": False}
    assert said(api, "Talk faster.") == "That's as fast as I go: 140 percent of my normal speed."
    assert said(api, "How fast are you speaking?") == (
        "I'm speaking at 140 percent of my normal speed."
    )
    tts = api.node("solo/voice/tts")
    assert tts is not None and tts.figures["speaking_rate"] == 140
    # Bad input is refused naming what was wrong; the rate stays.
    for body in ({"percent": 200}, {"percent": "fast"}, {"speed": 1.2}):
        refused = api.post("/speaking-rate", scope="control", json=body)
        wrong = next(iter(body))
        assert refused.status_code == 400 and wrong in refused.json()["error"], refused.text
    assert api.post("/speaking-rate", scope="read", json={"percent": 90}).status_code == 403
    assert said(api, "Speak normally.") == "I'm speaking at my normal speed."
    assert api.get("/speaking-rate", scope="read").json()["percent"] == 100
