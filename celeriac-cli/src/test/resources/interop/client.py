"""Python Celery as a client of Celeriac workers: sends tasks, waits for their results, prints a JSON summary."""
import json
import time
from datetime import datetime, timedelta, timezone

from celery.exceptions import TaskRevokedError

from interop import add, app

out = {}
out["add"] = add.delay(2, 3).get(timeout=60)  # as an application would
out["kwargs"] = app.send_task("add", kwargs={"x": 40, "y": 2}).get(timeout=60)
out["echo"] = app.send_task("echo", args=["ünïcödé 🥬", {"nested": [1, 2.5, None, True, {"deep": ["中文"]}]}],
                            kwargs={"k": "v", "n": None}).get(timeout=60)
t0 = time.time()
out["countdown"] = app.send_task("add", args=(1, 2), countdown=2).get(timeout=60)
out["countdown_elapsed"] = time.time() - t0
try:
    app.send_task("add", args=(1, 2), expires=datetime.now(timezone.utc) - timedelta(seconds=5)).get(timeout=60)
    out["expired"] = "it ran"
except TaskRevokedError as e:
    out["expired"] = str(e)
try:
    app.send_task("fail", args=("boom",)).get(timeout=60)
    out["fail"] = "no exception"
except Exception as e:  # the worker's exception, rebuilt by Celery from exc_type/exc_module/exc_message
    out["fail"] = {"type": type(e).__name__, "message": str(e)}
r = app.send_task("add", args=(5, 5), priority=9)
out["priority"] = r.get(timeout=60)
out["state"] = r.state
print(json.dumps(out))
