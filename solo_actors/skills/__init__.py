"""Skills: what people ask a voice assistant most, answered locally before the llm.

`words` reads numbers, durations, clock times and days out of words; `templates` compiles the
sentence templates of ``config/skills/*.toml`` into a `Matcher`; `arithmetic` is the safe
calculator; `builtin` answers each intent against a `SkillBook` (timers, alarms,
reminders); `actor` is the ``skills`` actor that keeps them durable and fires them; `hook`
is the one call the dialogue actor makes per turn. Import-light: only the actor needs the
store or the actor system.
"""
