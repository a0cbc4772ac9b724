"""Sends RabbitTopologyTest's tasks and prints their ids as one JSON line.

run: a countdown task on the default queue, for the worker; parked: one on the queue "probe",
which no worker consumes, so the test reads the message exactly as Celery published it.
"""
import json

from rabbit_app import add

run = add.apply_async((2, 3), countdown=1)
parked = add.apply_async((4, 5), queue="probe", countdown=30, priority=3, expires=600)
print(json.dumps({"run": run.id, "parked": parked.id}))
