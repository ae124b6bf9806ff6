"""The OpenAI-compatible routes under /v1: models, chat, audio and embeddings.

Each route is a thin translation between OpenAI's JSON and Solo's messages: chat goes to
the llm actor as an `LLMRequest`, transcription to stt as `TranscribeAudio`, speech to tts as
`SynthesizeSpeech`, embeddings to memory as `EmbedTexts`; so supervision, the llm's reply
cache and the actors' figures apply as to any other turn. The routes are in the API's one
table (`solo_actors.api.routes`), behind the same tokens and scopes; their errors come in
OpenAI's shape (`errors`). docs/openai.md is the user's guide.
"""
