"""The template library renders each family's real format; GGUF templates come first."""

from __future__ import annotations

import pytest

from solo_actors.llm.templates import (
    ALL_STOPS,
    FAMILIES,
    LIBRARY,
    ROLE_ECHOES,
    TemplateError,
    guess_family,
    select_template,
)

CHAT = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello!"},
    {"role": "user", "content": "Capital of France?"},
]

EXPECTED = {
    "chatml": (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nCapital of France?"
        "<|im_end|>\n<|im_start|>assistant\n"
    ),
    "llama3": (
        "<s><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nCapital of France?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    ),
    "mistral": "<s>[INST] Be brief.\n\nHi [/INST]Hello!</s>[INST] Capital of France? [/INST]",
    "phi3": (
        "<|system|>\nBe brief.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\nHello!<|end|>\n"
        "<|user|>\nCapital of France?<|end|>\n<|assistant|>\n"
    ),
    "gemma": (
        "<s><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n"
        "Hello!<end_of_turn>\n<start_of_turn>user\nCapital of France?<end_of_turn>\n"
        "<start_of_turn>model\n"
    ),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_family_renders_its_format(family: str) -> None:
    template = select_template(family, {}, bos_token="<s>", eos_token="</s>")
    assert template.origin == family
    assert template.render(CHAT, add_generation_prompt=True) == EXPECTED[family]


def test_every_family_has_an_expected_rendering() -> None:
    assert set(EXPECTED) == set(FAMILIES)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_closed_conversation_extends_the_open_prompt(family: str) -> None:
    """The next prompt must start with the closed conversation, or KV reuse is lost."""
    template = select_template(family, {}, bos_token="<s>", eos_token="</s>")
    answered = [*CHAT, {"role": "assistant", "content": "Paris."}]
    closed = template.render(answered, False)
    follow_up = [*answered, {"role": "user", "content": "?"}]
    assert template.render(follow_up, True).startswith(closed)
    assert closed.startswith(template.render(CHAT, True))


def test_gguf_template_wins_over_the_library() -> None:
    metadata = {
        "tokenizer.chat_template": "{% for m in messages %}[{{ m.role }}] {{ m.content }}\n"
        "{% endfor %}<|im_start|>",
        "general.architecture": "llama",
    }
    template = select_template("auto", metadata)
    assert template.origin == "gguf"
    assert template.family.name == "chatml"  # recognised by its marker, for the stops
    assert template.render(CHAT[:2], True) == "[system] Be brief.\n[user] Hi\n<|im_start|>"


def test_without_gguf_template_the_family_is_guessed() -> None:
    assert select_template("auto", {"general.architecture": "gemma2"}).origin == "gemma"


@pytest.mark.parametrize(
    ("metadata", "family"),
    [
        ({"tokenizer.chat_template": "x<start_of_turn>y"}, "gemma"),
        ({"general.name": "Meta Llama-3.2 1B Instruct", "general.architecture": "llama"}, "llama3"),
        ({"general.name": "Mistral 7B Instruct v0.2", "general.architecture": "llama"}, "mistral"),
        ({"general.basename": "SmolLM2", "general.architecture": "llama"}, "chatml"),
        ({"general.architecture": "phi3"}, "phi3"),
        ({"general.architecture": "qwen2"}, "chatml"),
        ({"general.architecture": "something-new"}, "chatml"),
    ],
)
def test_guess_family(metadata: dict[str, str], family: str) -> None:
    assert guess_family(metadata).name == family


def test_unknown_template_name_lists_the_known_ones() -> None:
    with pytest.raises(TemplateError, match=r"unknown template 'vicuna' \(known: auto, chatml"):
        select_template("vicuna", {})


def test_broken_gguf_template_is_a_clear_error() -> None:
    with pytest.raises(TemplateError, match="does not compile"):
        select_template("auto", {"tokenizer.chat_template": "{% for %}"})


def test_digest_changes_with_the_template() -> None:
    digests = {select_template(family, {}).digest for family in FAMILIES}
    assert len(digests) == len(LIBRARY)


def test_stops_and_echoes_cover_every_family() -> None:
    for family in LIBRARY:
        assert set(family.stops) <= set(ALL_STOPS)
        assert family.assistant_header.strip() in ROLE_ECHOES
