"""The Python side of RabbitTopologyTest: a plain Celery 5 app on a RabbitMQ node (no result backend).

Everything is Celery's default, so what it declares is what any Celery shop on RabbitMQ has.
"""
import os

from celery import Celery

app = Celery("rabbit_app", broker=os.environ["BROKER"])
app.conf.update(task_serializer="json", accept_content=["json"], enable_utc=True)


@app.task(name="add")
def add(x, y):
    return x + y
