"""Segments built away from the write lock, on the other core.

Whoosh writes a segment, and merges segments, inside `commit()` while holding the index's write
lock, so an article waited for every merge under way, and one process could only use one core.
Here a segment is written into a folder of its own (`<generation>/.build/<name>/`, which Whoosh's
clean-up skips) by anyone, without the lock: the documents of a batch, or the merge of some
segments of the live index as they were when it began. The writer then installs it under the
lock in a commit that only moves its file in and writes the table of contents: a merged segment
replaces its sources, and the deletions made in them meanwhile are applied to it again.

`SegmentBuilder` runs these jobs in a helper process (spawned, so no lock or thread is
inherited) one at a time; the writer keeps two, so that a backlog is written two batches at a
time. `build_segment` also runs in the writer's own process when a helper cannot.
"""

from __future__ import annotations

import bisect
import multiprocessing
import os
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.reading import SegmentReader

from app.search import buffers, columns, whoosh_fixes

_CONTEXT = multiprocessing.get_context("spawn")
BUILD_FOLDER = ".build"  # inside a generation; Whoosh never deletes a name starting with "."
# A job's answer is waited for this long at most: a batch takes seconds, the largest idle
# merge (512 MB) minutes; a helper stuck past it is ended and the work done without it.
JOB_SECONDS = 3600.0


@dataclass
class Built:
    """A segment written in a build folder, waiting to be installed in the live index.

    `sources` is, for a merge, each merged segment's id and the documents deleted in it when the
    merge began, in the order they were merged (which is the order of the new document numbers).
    """

    segment: Any
    folder: str
    sources: tuple[tuple[str, frozenset[int]], ...] = ()

    @property
    def file(self) -> Path:
        """The segment's one (compound) file."""
        return Path(self.folder) / str(self.segment.make_filename(".seg"))

    def discard(self) -> None:
        """Remove the build folder (installed or not)."""
        shutil.rmtree(self.folder, ignore_errors=True)


class Stale(Exception):
    """A merged segment's sources left the index meanwhile (merged or dropped elsewhere)."""


def clear_builds(generation: Path) -> None:
    """Remove what interrupted builds left in a generation (run by the writer when it leads)."""
    shutil.rmtree(generation / BUILD_FOLDER, ignore_errors=True)


def _build_index(generation: Path, schema: Any) -> Any:
    folder = generation / BUILD_FOLDER / uuid.uuid4().hex
    folder.mkdir(parents=True)
    return whoosh_index.create_in(str(folder), schema)


def _finish(ix: Any, sources: tuple[tuple[str, frozenset[int]], ...] = ()) -> Built | None:
    segments = ix._segments()
    folder = ix.storage.folder
    ix.close()
    if not segments:
        shutil.rmtree(folder, ignore_errors=True)
        return None
    (segment,) = segments
    return Built(segment=segment, folder=folder, sources=sources)


def _write(
    generation: str,
    schema: Any,
    fill: Callable[[Any], None],
    sources: tuple[tuple[str, frozenset[int]], ...] = (),
) -> Built | None:
    """A segment of what `fill` adds to a writer of a new build folder; the folder goes if
    anything fails."""
    whoosh_fixes.apply()
    ix = _build_index(Path(generation), schema)
    try:
        writer = ix.writer()
        try:
            fill(writer)
        except BaseException:
            writer.cancel()
            raise
        writer.commit(merge=False)
    except BaseException:
        shutil.rmtree(ix.storage.folder, ignore_errors=True)
        raise
    return _finish(ix, sources)


def build_segment(
    generation: str, schema: Any, documents: Sequence[dict[str, Any]]
) -> Built | None:
    """A segment of these index documents (None for none), written without the live lock."""

    def fill(writer: Any) -> None:
        for document in documents:
            writer.add_document(**document)

    return _write(generation, schema, fill)


def merge_segments(generation: str, schema: Any, segments: Sequence[Any]) -> Built | None:
    """One segment of the live documents of these segments of the live index, as they are now."""
    storage = FileStorage(generation)

    def fill(writer: Any) -> None:
        for segment in segments:
            reader = SegmentReader(storage, schema, segment)
            try:
                writer.add_reader(reader)
            finally:
                reader.close()

    sources = tuple((s.segment_id(), frozenset(s.deleted_docs())) for s in segments)
    return _write(generation, schema, fill, sources)


def installing(storage: Any, built: Built | None) -> Callable[[Any, list[Any]], list[Any]]:
    """A Whoosh merge policy that installs `built` in the commit that calls it.

    A batch's segment goes last. A merged one takes the place of its first source and the
    sources go; documents deleted in a source since the merge began are deleted in it too (a
    source document's new number is its rank among the ones live when the merge began). Raises
    Stale when a source is gone: the caller cancels the commit.
    """

    def merge(writer: Any, segments: list[Any]) -> list[Any]:
        if built is None:
            return segments
        if not built.sources:
            os.replace(built.file, Path(storage.folder) / built.file.name)
            return [*segments, built.segment]
        current = {s.segment_id(): s for s in segments}
        if any(segid not in current for segid, _ in built.sources):
            raise Stale(built.segment.segment_id())
        base = 0
        for segid, deleted_before in built.sources:
            source = current[segid]
            before = sorted(deleted_before)
            for docnum in set(source.deleted_docs()) - deleted_before:
                built.segment.delete_document(base + docnum - bisect.bisect_left(before, docnum))
            base += source.doc_count_all() - len(before)
        os.replace(built.file, Path(storage.folder) / built.file.name)
        merged = {segid for segid, _ in built.sources}
        first = min(i for i, s in enumerate(segments) if s.segment_id() in merged)
        kept = [s for s in segments if s.segment_id() not in merged]
        return [*kept[:first], built.segment, *kept[first:]]

    return merge


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:  # the writer's process died: do not outlive it
            os._exit(0)


def _serve(connection: Any, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C stops the writer, which ends this
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    buffers.install()  # read the merged segments as the writer's own process would
    columns.install()
    jobs: dict[str, Callable[..., Built | None]] = {
        "build": build_segment,
        "merge": merge_segments,
    }
    while True:
        try:
            kind, args = connection.recv()
        except (EOFError, OSError):
            return
        try:
            answer: tuple[str, Any] = ("ok", jobs[kind](*args))
        except Exception as exc:  # reported to the writer, which logs it and goes on without
            answer = ("error", f"{type(exc).__name__}: {exc}")
        connection.send(answer)


class BuilderFailed(RuntimeError):
    """The helper process failed a job, or ended."""


class SegmentBuilder:
    """A helper process that builds and merges segments, one job at a time.

    It starts with its first job and `close()` ends it (the writer does once idle, to give its
    memory back); one that dies is started again with the next job.
    """

    def __init__(self) -> None:
        self._process: Any = None
        self._connection: Any = None
        self._busy = False

    @property
    def busy(self) -> bool:
        """Whether a job is under way."""
        return self._busy

    def submit(self, kind: str, *args: Any) -> None:
        """Start a job ("build" or "merge", with build_segment's or merge_segments' arguments)."""
        assert not self._busy, "one job at a time"
        if self._process is None or not self._process.is_alive():
            try:
                self._start()
            except Exception as exc:
                self.close()
                raise BuilderFailed(f"the segment builder cannot start: {exc}") from exc
        try:
            self._connection.send((kind, args))
        except OSError:  # it ended as it started
            self.close()
            raise BuilderFailed("the segment builder process ended") from None
        self._busy = True

    def _start(self) -> None:
        self.close()
        ours, theirs = _CONTEXT.Pipe()
        self._process = _CONTEXT.Process(
            target=_serve, name="newsdesk-builder", args=(theirs, os.getpid()), daemon=True
        )
        self._process.start()
        theirs.close()
        self._connection = ours

    def ready(self) -> bool:
        """Whether the job under way has finished (or the helper has died)."""
        return self._busy and (self._connection.poll(0) or not self._process.is_alive())

    def result(self, timeout: float = JOB_SECONDS) -> Built | None:
        """Wait for the job under way; raises BuilderFailed if it failed, or if it did not
        answer within `timeout` seconds (the helper is then ended)."""
        assert self._busy, "no job under way"
        self._busy = False
        try:
            if not self._connection.poll(timeout):
                self.close()
                raise BuilderFailed(f"the segment builder did not answer in {timeout:.0f} s")
            status, value = self._connection.recv()
        except (EOFError, OSError):
            self.close()
            raise BuilderFailed("the segment builder process ended") from None
        if status != "ok":
            raise BuilderFailed(value)
        built: Built | None = value
        return built

    def close(self) -> None:
        """End the helper process (a job under way is abandoned)."""
        self._busy = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._process is not None:
            if self._process.is_alive():
                self._process.terminate()
            if self._process.pid is not None:  # it started
                self._process.join(10)
            self._process = None
