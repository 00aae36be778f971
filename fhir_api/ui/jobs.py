"""Loads started from the curator console, run in a background thread so that the page can follow them.

A job runs ``fhir_api.admin.load_source`` (the ``POST /releases`` path) and records its stage (``received``,
``reading``, ``checking``, ``storing``, then ``comparing``: the diff with the active version, which the review
page shows, is computed before the job is reported done) and outcome. Jobs live in the memory of the server
process that runs them: with several worker processes, a job's page is found only by the worker that started it.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fhir_api.errors import FhirError
from fhir_api.ui.expansions import error_text
from smt.errors import SmtError
from smt.store.releases import ReleaseInfo

log = logging.getLogger("fhir_api.ui")
STAGES = ("received", "reading", "checking", "storing", "comparing", "done")
KEPT = 50


@dataclass(slots=True)
class Job:
    id: str
    owner: str
    filename: str
    loader: str
    stage: str = "received"
    status: str = "running"
    """``running``, ``done`` or ``failed``."""
    message: str | None = None
    releases: list[ReleaseInfo] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    finished: float | None = None

    @property
    def step(self) -> int:
        """The stage's rank, 1 to ``len(STAGES)``."""
        return STAGES.index(self.stage) + 1

    @property
    def seconds(self) -> int:
        return int((self.finished or time.time()) - self.started)


class Jobs:
    """The jobs of this process, newest first (the last ``KEPT`` of them)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, Job] = OrderedDict()

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def listed(self) -> list[Job]:
        return list(reversed(self._jobs.values()))

    def start(self, owner: str, filename: str, loader: str, folder: Path,
              work: Callable[[Callable[[str], None]], list[ReleaseInfo]]) -> Job:
        """Run ``work(progress)`` in a thread; ``folder`` (the upload) is removed when it ends."""
        job = Job(uuid.uuid4().hex, owner, filename, loader)
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > KEPT:
                self._jobs.popitem(last=False)

        def progress(stage: str) -> None:
            job.stage = stage

        def run() -> None:
            try:
                job.releases = work(progress)
                job.stage, job.status = "done", "done"
            except (FhirError, SmtError) as exc:  # the loader's, the quality gate's, the store's, a role's
                job.status, job.message = "failed", error_text(exc)
            except Exception:  # a loader bug must not kill the server: the job reports it
                log.exception("load of %s with loader %s failed", filename, loader)
                job.status, job.message = "failed", "unexpected error (see the server log)"
            finally:
                job.finished = time.time()
                shutil.rmtree(folder, ignore_errors=True)

        threading.Thread(target=run, name=f"smt-load-{job.id[:8]}", daemon=True).start()
        return job
