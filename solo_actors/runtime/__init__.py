"""Solo's plumbing: what starts, wires and observes the actors without being one of them.

The actors (`dialogue`, `llm`, `voice`, ...: one module or small package each, directly under
`solo_actors`) do the assistant's work. This package holds what they run on, as an OTP
release holds its application module beside the gen_servers:

- `app`: the running assistant: starts the tree, waits for a signal or the tree's end, stops
  it in order, and gives the process its exit status;
- `tree`: the supervision tree declared as data (child specs), which `app` starts;
- `specs`: `worker_spec`, how every worker child is declared alike (registered name,
  shutdown time, mailbox bound, process isolation);
- `codec`: the MessagePack codec that carries messages into an isolated actor's process;
- `events`: the process-wide events hub that actors publish to and the API's live streams
  watch;
- `logs`: structured logging for the whole process, with levels per actor path;
- `private`: the run-time folder kept to its owner (umask, mode 0700);
- `clock` and `ids`: the clocks and the ids that messages are stamped with.

What stays outside, and why: `solo_actors.reports` runs the ``reports`` actor, a child of
the tree like ``store`` or ``llm`` (its `ReportForwarder` is that actor's client, the sink
the supervisors report to), so it is an actor, not plumbing. `solo_actors.names` and
`solo_actors.messages` are the contract between the actors (what they are called and what
they say to each other), and `solo_actors.config` is the configuration's own package.

Nothing here imports an actor except `tree`, which declares them, and `app`, which runs it.
"""
