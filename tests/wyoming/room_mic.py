"""A room's microphone for wyoming-satellite's --mic-command: silence in real time, and a
recorded question each time the test asks for one.

    room_mic.py QUESTION.raw TRIGGER [SAID]

Writes 16 kHz mono int16 PCM to stdout in 1024-sample chunks at the pace of real time.
Whenever the file TRIGGER exists, it is removed and QUESTION.raw (the same format) is
said next, then silence again: the test "speaks" in the room by touching a file. With
SAID, the wall-clock time the question's last sample was written is appended to it (the
end of speech, for bench/bench_rooms.py).
"""

from __future__ import annotations

import os
import sys
import time

RATE = 16_000
CHUNK = 1024


def main() -> None:
    question, trigger = sys.argv[1], sys.argv[2]
    said = sys.argv[3] if len(sys.argv) > 3 else None
    out = sys.stdout.buffer
    queued = b""
    started = time.monotonic()
    sent = 0
    while True:
        if not queued and os.path.exists(trigger):
            os.unlink(trigger)
            with open(question, "rb") as file:
                queued = file.read()
        chunk, queued = queued[: 2 * CHUNK], queued[2 * CHUNK :]
        out.write(chunk.ljust(2 * CHUNK, b"\0"))
        out.flush()
        if chunk and not queued and said is not None:
            with open(said, "a") as file:
                file.write(f"{time.time()}\n")
        sent += CHUNK
        time.sleep(max(0.0, started + sent / RATE - time.monotonic()))


if __name__ == "__main__":
    main()
