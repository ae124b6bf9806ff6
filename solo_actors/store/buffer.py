"""The store actor's write buffer: rows per table, bounded, kept until a flush succeeds.

Rows of tables with a primary key are keyed by it, so a row written twice before a flush is
inserted once (the later one wins, as the database would do). Past ``max_rows`` new rows are
refused and counted: the caller logs and records the loss, it is never silent.
"""

from __future__ import annotations

from solo_actors.store.backend import Batch, Row
from solo_actors.store.schema import TABLES, TURNS


class WriteBuffer:
    def __init__(self, max_rows: int) -> None:
        self.max_rows = max_rows
        self._rows: dict[str, dict[object, Row]] = {name: {} for name in TABLES}
        self._serial = 0  # key of rows without a primary key
        self.size = 0
        self.dropped = 0

    def add(self, table: str, row: Row) -> bool:
        """Buffer ``row``; False (and counted) when the buffer is full."""
        spec = TABLES[table]
        if spec.primary_key:
            key: object = tuple(row[spec.column_names.index(c)] for c in spec.primary_key)
        else:
            self._serial += 1
            key = self._serial
        rows = self._rows[table]
        if key not in rows:
            if self.size >= self.max_rows:
                self.dropped += 1
                return False
            self.size += 1
        rows[key] = row
        return True

    def forget_mentions(self, texts: list[str], replacement: str) -> int:
        """Forget ``texts`` in the buffered turns as `StoreBackend.redact_turns` does in the
        database; how many turns were changed."""
        columns = TURNS.column_names
        said, reply = columns.index("user_text"), columns.index("reply_text")
        wanted = [text for text in texts if text.strip()]
        turns = self._rows[TURNS.name]
        changed = 0
        for key, row in turns.items():
            redacted = list(row)
            words = " ".join(str(row[said]).split())
            if any(text in words for text in wanted):
                redacted[said] = redacted[reply] = replacement
            else:
                for text in wanted:
                    redacted[reply] = str(redacted[reply]).replace(text, replacement)
            if redacted != list(row):
                turns[key] = tuple(redacted)
                changed += 1
        return changed

    def batch(self) -> Batch:
        return {name: list(rows.values()) for name, rows in self._rows.items() if rows}

    def clear(self) -> None:
        for rows in self._rows.values():
            rows.clear()
        self.size = 0
