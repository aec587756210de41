"""Streaming building blocks: rows grouped by subject across tables, and files as byte chunks.

Every table is read with one server-side cursor (`.iterator(chunk_size)`), ordered by subject id;
`by_subject` merges such streams so that one subject's rows of every table are in memory at a
time, never the study. `zip_chunks` writes CSV files into a zip without a seekable file and
hands the bytes on as they are produced.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator

# Rows fetched per round trip of a server-side cursor: what one table's stream holds at most.
CHUNK_ROWS = 500
FLUSH_BYTES = 64 * 1024


def rows_of(queryset) -> Iterator:
    return queryset.iterator(chunk_size=CHUNK_ROWS)


def by_subject(streams: dict[str, Iterable]) -> Iterator[tuple[str, dict[str, list]]]:
    """Merges streams ordered by `x_subject_id` into (subject id, {stream name: its rows})."""
    iterators = {name: iter(stream) for name, stream in streams.items()}
    heads = {name: next(iterator, None) for name, iterator in iterators.items()}
    while True:
        live = [row.x_subject_id for row in heads.values() if row is not None]
        if not live:
            return
        subject = min(live)
        bundle: dict[str, list] = {name: [] for name in iterators}
        for name, iterator in iterators.items():
            row = heads[name]
            while row is not None and row.x_subject_id == subject:
                bundle[name].append(row)
                row = next(iterator, None)
            heads[name] = row
        yield subject, bundle


class _Sink:
    """A write-only, non-seekable file collecting what zipfile writes until it is drained."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._size = 0
        self._position = 0

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        self._size += len(data)
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        return None

    @property
    def pending(self) -> int:
        return self._size

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        self._size = 0
        return data


def zip_chunks(files: Iterable[tuple[str, Iterable[list[str]]]]) -> Iterator[bytes]:
    """A zip of CSV files (name, rows), as byte chunks of about FLUSH_BYTES."""
    sink = _Sink()
    archive = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED)
    for name, rows in files:
        with archive.open(name, "w", force_zip64=True) as member:
            text = io.TextIOWrapper(member, encoding="utf-8", newline="")
            writer = csv.writer(text, lineterminator="\n")
            for row in rows:
                writer.writerow(row)
                if sink.pending >= FLUSH_BYTES:
                    yield sink.drain()
            text.flush()
            text.detach()
        yield sink.drain()
    archive.close()
    yield sink.drain()


def csv_chunks(rows: Iterable[list[str]]) -> Iterator[bytes]:
    """One CSV file as byte chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow(row)
        if buffer.tell() >= FLUSH_BYTES:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()
