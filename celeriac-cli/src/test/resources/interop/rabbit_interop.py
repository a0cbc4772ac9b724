"""The Python side of RabbitInteropTest: a Celery 5 app on a RabbitMQ node (BROKER) with its results in Redis (RESULTS)."""
import os
import time

from celery import Celery

app = Celery("rabbit_interop", broker=os.environ["BROKER"], backend=os.environ["RESULTS"])
app.conf.update(task_serializer="json", accept_content=["json"], result_serializer="json", enable_utc=True)


@app.task(name="add")
def add(x, y):
    return x + y


@app.task(name="echo")
def echo(*args, **kwargs):
    return {"args": list(args), "kwargs": kwargs}


@app.task(name="fail")
def fail(message="boom"):
    raise ValueError(message)


@app.task(name="slow")
def slow(seconds):
    time.sleep(seconds)
    return seconds
