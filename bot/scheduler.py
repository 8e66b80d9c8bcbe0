"""Thin wrapper over APScheduler 3 (AsyncIOScheduler) so every job has a stable id and replaces its
previous definition: a restart or a second registration never runs a job twice."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class Scheduler:
    def __init__(self) -> None:
        self._scheduler = AsyncIOScheduler(timezone="UTC")

    def start(self) -> None:
        if not self._scheduler.running:
            self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def every_minutes(self, job_id: str, minutes: int, func: Job) -> None:
        self._scheduler.add_job(
            func,
            IntervalTrigger(minutes=minutes),
            id=job_id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=60,
        )

    def at(self, job_id: str, when: datetime, func: Job) -> None:
        self._scheduler.add_job(
            func,
            DateTrigger(run_date=when),
            id=job_id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )

    def after(self, job_id: str, seconds: float, func: Job) -> None:
        """Run once, `seconds` of wall-clock time from now (retries wait for the platform, not for an
        activation's schedule)."""
        self.at(job_id, datetime.now(UTC) + timedelta(seconds=seconds), func)

    def job_ids(self) -> list[str]:
        return sorted(job.id for job in self._scheduler.get_jobs())
