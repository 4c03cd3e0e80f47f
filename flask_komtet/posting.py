"""Posting receipts to KOMTET in batches: ``multi-tasks`` per shop and queue, concurrently.

The database work stays in the sender's thread; only the HTTP requests run in
a small thread pool. A batch KOMTET refuses is sent again one by one, so one
bad receipt (or one already submitted) never holds back the others. Each
receipt gets its own task from the answer, matched by ``external_id``
(:func:`~flask_komtet.client.match_tasks`); one the answer has no task for is
retried, never taken as sent without its task id.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .client import KomtetClient
from .errors import KomtetError, ServerError

__all__ = ["MULTI", "POST_CONCURRENCY", "Poster", "PostResult"]

POST_CONCURRENCY = 8
MULTI = 25
PostResult = tuple[dict[str, Any] | None, KomtetError | None]


class Poster:
    """Posts batches of receipt bodies; owns the thread pool the requests run in."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def post_all(self, jobs: list[tuple[KomtetClient, int, bytes]]) -> list[PostResult]:
        """POST each ``(client, queue_id, body)``; results in order, errors returned, not raised.

        Receipts for one shop and queue go together through ``multi-tasks`` (up to
        ``MULTI`` a request); a batch KOMTET refuses is sent again one by one, so
        one bad receipt (or one already submitted) never holds back the others.
        """
        groups: dict[tuple[str, str, int], list[int]] = {}
        for index, (client, queue_id, _) in enumerate(jobs):
            groups.setdefault((client.api_url, client.shop_id, queue_id), []).append(index)
        chunks = [[jobs[i] for i in indexes[n:n + MULTI]] for indexes in groups.values()
                  for n in range(0, len(indexes), MULTI)]
        order = [i for indexes in groups.values() for n in range(0, len(indexes), MULTI) for i in indexes[n:n + MULTI]]
        results = list(self._executor().map(_post_chunk, chunks)) if len(chunks) > 1 else [_post_chunk(c) for c in chunks]
        flat = [result for chunk in results for result in chunk]
        ordered: list[Any] = [None] * len(jobs)
        for index, result in zip(order, flat, strict=True):
            ordered[index] = result
        return ordered

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(POST_CONCURRENCY, thread_name_prefix="komtet-post")
            return self._pool

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)


def _post_chunk(chunk: list[tuple[KomtetClient, int, bytes]]) -> list[PostResult]:
    if len(chunk) == 1:
        return [_post(chunk[0])]
    client, queue_id, _ = chunk[0]
    try:
        tasks = client.create_tasks(queue_id, [body for _, _, body in chunk])
    except KomtetError as exc:
        if exc.retryable:
            return [(None, exc)] * len(chunk)
        return [_post(job) for job in chunk]  # find out which receipt KOMTET refused
    return [(task, None) if task is not None else (None, _unanswered()) for task in tasks]


def _unanswered() -> ServerError:
    return ServerError("ответ multi-tasks не содержит задания для этого чека: чек будет отправлен снова", status=200)


def _post(job: tuple[KomtetClient, int, bytes]) -> PostResult:
    client, queue_id, body = job
    try:
        return client.create_task(queue_id, body), None
    except KomtetError as exc:
        return None, exc
