"""Overload of the real llm actor: past its mailbox bound, asks are refused at once with a
clear busy error naming the actor; every ask it accepted is answered."""

from __future__ import annotations

import supervisors
from solo_actors.llm import child_spec
from solo_actors.messages import LLMDone, LLMRequest
from tests.conftest import ConfigFactory

FLOOD = 30
CAPACITY = 4


def test_a_flooded_llm_refuses_with_busy_and_answers_what_it_accepted(
    make_config: ConfigFactory,
) -> None:
    config = make_config(mailboxes__llm__capacity=CAPACITY, llm__cache=False, llm__max_tokens=8)
    root = supervisors.start_supervisor(supervisors.SupFlags(), [child_spec(config)], name="flood")
    try:
        llm = supervisors.whereis("llm")
        assert llm is not None
        futures = [llm.ask(LLMRequest(prompt=f"Count to {n}."), block=False) for n in range(FLOOD)]
        answered, busy = [], []
        for future in futures:
            try:
                answered.append(future.get(timeout=300))
            except supervisors.BusyError as error:
                busy.append(error)
        assert busy, "nothing was refused: the bound did not hold"
        for error in busy:
            assert error.actor == "llm" and error.depth == CAPACITY
            assert str(error).startswith(f"llm is busy: {CAPACITY} messages waiting")
        # The one being generated when the flood came, and the ones that fitted behind it.
        assert CAPACITY <= len(answered) <= CAPACITY + 1
        assert all(isinstance(reply, LLMDone) and reply.text.strip() for reply in answered)
        node = root.status().find("flood/llm")
        assert node is not None and node.state == "running"
        assert node.mailbox_overflow == len(busy) == FLOOD - len(answered)
        assert node.mailbox_limit == supervisors.MailboxLimit(CAPACITY, "reject")
    finally:
        root.stop()
