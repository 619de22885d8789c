"""A real Celery worker (a subprocess, on a Redis of this test's own) killed with SIGKILL in the
middle of import jobs: every job ends exactly once, its rows written once and whole (never twice,
never half), and no job is left "running". 5 kills in make test, 50 under make soak.

Two kinds of kill: the pool process running the task (the worker forks a new one and, with
reject_on_worker_lost, puts the task back at once), and, every fifth round, the whole worker (started
again; the broker gives the unacknowledged task back after the visibility timeout)."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

from components.models import Component, ImportJob
from tests.factories import OrganisationFactory

from .servers import ThrowawayRedis
from .soak import rounds

ROOT = Path(__file__).resolve().parents[2]
ROWS = 2000
REDELIVER_S = 2


class Worker:
    """`celery worker` as a deployment runs it, pointed at the test database and the given broker."""

    def __init__(self, broker_url: str, log: Path):
        db = connection.settings_dict
        self.env = {
            **os.environ,
            "GRIDCITY_ENV": "test",
            "CELERY_BROKER_URL": broker_url,
            "REDIS_URL": broker_url,
            "CELERY_RESULT_BACKEND": broker_url,
            "GRIDCITY_TASK_REDELIVER_S": str(REDELIVER_S),
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        }
        self.log, self.process = log, None

    def start(self):
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "gis_core",
                    "worker",
                    "--pool",
                    "prefork",
                    "--concurrency",
                    "1",
                    "-l",
                    "WARNING",
                    "--without-mingle",
                    "--without-gossip",
                    "-Q",
                    settings.CELERY_TASK_DEFAULT_QUEUE,
                ],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def kill(self):
        pool = self.pool_pids
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        for pid in pool:  # and its pool process, which would otherwise run on as an orphan
            os.kill(pid, signal.SIGKILL)

    @property
    def pool_pids(self) -> list[int]:
        try:
            return [
                int(p) for p in Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
            ]
        except FileNotFoundError:
            return []

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def lamps_csv(path: Path, prefix: str, owner) -> Path:
    """ROWS new streetlights without IDs: a second write of the file would make ROWS more components."""
    lines = ["class_code,name,owner_uscc,x,y"]
    lines += [
        f"0118,{prefix}{i},{owner.uscc},{116.80 + (i % 200) * 0.0005:.5f},{35.50 + (i // 200) * 0.0005:.5f}"
        for i in range(ROWS)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def wait_for(job, statuses, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in statuses:
            return job.status
        time.sleep(0.05)
    return job.status


@pytest.fixture
def broker():
    server = ThrowawayRedis().start()
    yield server
    server.close()


@pytest.mark.django_db(transaction=True)
def test_import_jobs_end_exactly_once_when_the_worker_is_killed_mid_job(broker, tmp_path, monkeypatch):
    owner = OrganisationFactory()
    monkeypatch.setenv("CELERY_BROKER_URL", broker.url)  # Celery lets the environment win over broker=
    sender = Celery(broker=broker.url, set_as_current=False)  # the suite's own app stays the current one
    worker = Worker(broker.url, tmp_path / "worker.log")
    worker.start()
    shuffle = random.Random(8)
    killed_running = 0
    try:
        for n in range(rounds(quick=5, soak=50)):
            prefix = f"k{n}-"
            job = ImportJob.objects.create(
                file=str(lamps_csv(tmp_path / f"{n}.csv", prefix, owner)), filename=f"{n}.csv", srid="4490"
            )
            sender.send_task("components.run_import", args=[str(job.pk)], queue=settings.CELERY_TASK_DEFAULT_QUEUE)
            assert wait_for(job, {"running", "succeeded", "failed"}, 120) == "running", worker.log.read_text()[-3000:]
            time.sleep(shuffle.uniform(0, 1.5))  # somewhere in reading, validating or writing
            whole_worker = n % 5 == 4
            pool_pids = worker.pool_pids  # before the status, so a kill after "running" hits the task's process
            job.refresh_from_db()
            killed_running += job.status == "running"
            if whole_worker:
                worker.kill()
                worker.start()
            else:
                for pid in pool_pids:
                    os.kill(pid, signal.SIGKILL)
            assert wait_for(job, {"succeeded", "failed"}, 180) == "succeeded", (
                n,
                job.as_dict(),
                worker.log.read_text()[-3000:],
            )
            assert (job.created, job.rows_done) == (ROWS, ROWS), (n, job.as_dict())
            assert Component.objects.filter(name__startswith=prefix).count() == ROWS, n
    finally:
        worker.stop()
    assert killed_running >= 1, "no kill landed while a job was running: the jobs are too short to test anything"
    assert not ImportJob.objects.filter(status="running").exists()
