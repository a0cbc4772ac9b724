"""The Python side of the Celery interop tests: a Celery 5 app on the same Redis as Celeriac.

Tasks count their runs in the Redis hash ``test.runs`` ("add:1+2" -> runs), and on_error records the
failed task's id in ``test.errbacks``, as the Java tasks of the canvas suite do, so one suite checks
either kind of worker.
"""
import os
import time

from celery import Celery

app = Celery("interop", broker=os.environ["BROKER"], backend=os.environ["BROKER"])
app.conf.update(task_serializer="json", accept_content=["json"], result_serializer="json", enable_utc=True,
                result_extended=True)


def _count(key):
    app.backend.client.hincrby("test.runs", key, 1)


@app.task(name="add")
def add(x, y):
    _count(f"add:{x}+{y}")
    return x + y


@app.task(name="mul")
def mul(x, y):
    return x * y


@app.task(name="tsum")
def tsum(numbers):
    _count(f"tsum:{numbers}")
    return sum(numbers)


@app.task(name="slow_add")
def slow_add(x, y):
    time.sleep(0.05)
    return x + y


@app.task(name="echo")
def echo(*args, **kwargs):
    return {"args": list(args), "kwargs": kwargs}


@app.task(name="fail")
def fail(message="boom"):
    _count("fail:")
    raise ValueError(message)


@app.task(name="on_error", bind=True)
def on_error(self, task_id):
    app.backend.client.hset("test.errbacks", task_id, self.request.id)
    return task_id


@app.task(name="flaky_add", bind=True, max_retries=2)
def flaky_add(self, x, y):
    if self.request.retries == 0:
        raise self.retry(exc=IOError("first try fails"), countdown=0.1)
    return x + y


@app.task(name="progress", bind=True)
def progress(self, steps):
    for i in range(steps):
        self.update_state(state="PROGRESS", meta={"done": i + 1, "total": steps})
        time.sleep(0.2)
    time.sleep(30)  # stays in PROGRESS while the test reads it
    return steps


@app.task(name="retry_once", bind=True, max_retries=3)
def retry_once(self, x):
    if self.request.retries == 0:
        raise self.retry(countdown=5)
    return x * 2


@app.task(name="slow")
def slow(seconds):
    time.sleep(seconds)
    return seconds
