"""Solo, the assistant: messages, one module (or small package) per actor, the CLI."""
