"""The language model: a supervised actor around one llama.cpp model (see docs/llm.md).

`LLMActor` serves `LLMRequest` messages with streamed `LLMToken`s and a final `LLMDone`;
`child_spec` describes it to a supervisor under its registered name.
"""

from solo_actors.llm.actor import BadRequest, LLMActor, LLMEvent
from solo_actors.llm.engine import ModelBroken
from solo_actors.llm.spec import child_spec

__all__ = ["BadRequest", "LLMActor", "LLMEvent", "ModelBroken", "child_spec"]
