"""The compute thread: one thread, jobs in order, errors reported, never fatal."""

import threading

from tui_lab.app.compute import ComputeThread, shared
from tui_lab.app.serve import serve_command


def test_jobs_run_in_order_on_one_thread():
    compute = ComputeThread("test-compute")
    seen, threads = [], set()

    def job(i):
        def run():
            threads.add(threading.get_ident())
            seen.append(i)
            return i

        return run

    results = []
    for i in range(20):
        compute.submit(job(i), results.append)
    assert compute.wait_idle(5)
    assert seen == list(range(20)) and results == list(range(20))
    assert threads == {compute.thread.ident}


def test_an_error_goes_to_failed_and_the_thread_lives_on():
    compute = ComputeThread("test-compute-errors")
    errors, results = [], []
    compute.submit(lambda: 1 / 0, results.append, errors.append)
    compute.submit(lambda: "after", results.append, errors.append)
    assert compute.wait_idle(5)
    assert [type(e) for e in errors] == [ZeroDivisionError]
    assert results == ["after"]


def test_cancelled_jobs_do_not_run():
    compute = ComputeThread("test-compute-cancel")
    gate, ran = threading.Event(), []
    compute.submit(lambda: gate.wait(5))
    job = compute.submit(lambda: ran.append(1))
    job.cancel()
    gate.set()
    assert compute.wait_idle(5)
    assert ran == []


def test_the_shared_thread_is_one_per_process():
    assert shared() is shared()
    assert shared().thread.daemon


def test_serve_runs_the_app_module_with_this_python():
    import sys

    assert serve_command() == f"{sys.executable} -m tui_lab.app"
    assert serve_command("char-textgen").endswith("-m tui_lab.app char-textgen")
    assert serve_command("my file.toml").endswith("'my file.toml'")


def test_app_module_rejects_an_unknown_scenario():
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "tui_lab.app", "no-such-scenario"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("tui-lab: no-such-scenario: no such scenario file")


def test_a_queued_job_ends_a_training_chunk_after_the_update_running(monkeypatch, make_fake_lab):
    """A key pressed mid-training is answered after one update, not after the chunk."""
    import time

    from tui_lab.app import session as session_module

    monkeypatch.setattr(session_module, "TRAIN_CHUNK_S", 1000.0)  # only a queued job ends it

    class SlowUpdates(make_fake_lab):
        def train_one(self):
            time.sleep(0.002)
            return 1.0

    class Target:
        def post_message(self, message):
            pass

    compute = ComputeThread("test-compute-yield")
    lab = SlowUpdates()
    session = session_module.LabSession(lab.scenario, Target(), compute, lab=lab)
    session.start()
    assert compute.wait_idle(10)
    session.train(2000)  # ~4 s of updates in one chunk, were it not for the yield
    while lab.train_step < 5:
        time.sleep(0.001)
    seen = []
    compute.submit(lambda: seen.append(lab.train_step))
    while not seen:
        time.sleep(0.001)
    session.stop_training()
    assert compute.wait_idle(10)
    assert seen[0] < 100  # answered within a few updates of being queued
