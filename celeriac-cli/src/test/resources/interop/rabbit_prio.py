"""Puts four tasks on the priority queue 'prio' (x-max-priority 10) before any worker consumes it: three at priority 0, then one at 9."""
import json

from kombu import Exchange, Queue

from rabbit_interop import app

app.conf.task_queues = [Queue("prio", Exchange("prio"), routing_key="prio", queue_arguments={"x-max-priority": 10})]
low = [app.send_task("add", args=(i, i), queue="prio", priority=0).id for i in range(3)]
high = app.send_task("add", args=(9, 9), queue="prio", priority=9).id
print(json.dumps({"low": low, "high": high}))
