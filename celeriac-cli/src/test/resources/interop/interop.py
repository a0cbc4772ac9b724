"""The Python side of the Celery interop tests: a Celery 5 app on the same Redis as Celeriac."""
import os

from celery import Celery

app = Celery("interop", broker=os.environ["BROKER"], backend=os.environ["BROKER"])
app.conf.update(task_serializer="json", accept_content=["json"], result_serializer="json", enable_utc=True)


@app.task(name="add")
def add(x, y):
    return x + y


@app.task(name="echo")
def echo(*args, **kwargs):
    return {"args": list(args), "kwargs": kwargs}


@app.task(name="fail")
def fail(message):
    raise ValueError(message)
