"""A statement cancelled while it runs leaves no task behind (embedded mode, SQLite).

A gRPC handler past its deadline is cancelled, and cancelled again when the server shuts down.
With aiosqlite 0.22 that used to orphan SQLAlchemy's shielded graceful close of the connection,
which then awaited forever and hung the event loop's shutdown (``prevention up`` on Ctrl+C).
"""

import asyncio
import threading

import pytest
from sqlalchemy import text

from services.common.db import Database
from tests.integration.helpers import wait_until


@pytest.fixture
def blocking_statement():
    """An SQL function ``block()`` that signals it is running and waits until released."""
    entered, release = threading.Event(), threading.Event()

    def block() -> int:
        entered.set()
        release.wait(30)
        return 1

    yield entered, release, block
    release.set()


def others() -> set[asyncio.Task]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()}


@pytest.mark.parametrize("cancellations", [1, 2])
async def test_a_cancelled_statement_leaves_no_task_behind(tmp_path, blocking_statement, cancellations):
    entered, release, block = blocking_statement
    db = Database(f"sqlite:///{tmp_path / 'cancel.db'}")
    try:
        async with db.engine.connect() as conn:  # the pool's one connection learns block()
            raw = await conn.get_raw_connection()
            await raw.driver_connection.create_function("block", 0, block)
        before = others()

        async def work():
            async with db.session() as session:
                await session.execute(text("SELECT block()"))

        task = asyncio.create_task(work())
        await asyncio.to_thread(entered.wait, 10)
        assert entered.is_set()
        for _ in range(cancellations):
            task.cancel()
            # let the cancellation reach the session's rollback (and the pool's terminate)
            for _ in range(5):
                await asyncio.sleep(0)
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        await wait_until(lambda: not (others() - before), timeout=10,
                         what="every task the cancelled statement started to end")
    finally:
        release.set()
        await db.dispose()
