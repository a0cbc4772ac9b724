"""Python Celery reading the states a Celeriac task reports: STARTED (task_track_started), then
PROGRESS i of 3 while the task waits for test.go.<id>.<i>, then SUCCESS. Prints a JSON summary."""
import json
import sys
import time

from interop import app

queue = sys.argv[1]
redis = app.backend.client


def until(result, check):
    deadline = time.time() + 60
    while time.time() < deadline:
        if check(result.state, result.info):
            return {"state": result.state, "info": result.info}
        time.sleep(0.02)
    raise SystemExit(f"timed out: state {result.state!r}, info {result.info!r}")


r = app.send_task("progress", args=(3,), queue=queue)
out = {"started": until(r, lambda s, i: s == "STARTED"), "progress": []}
redis.set(f"test.go.{r.id}.0", 1)
for step in (1, 2, 3):
    out["progress"].append(until(r, lambda s, i: s == "PROGRESS" and i["current"] == step))
    redis.set(f"test.go.{r.id}.{step}", 1)
out["result"] = r.get(timeout=60)
out["final"] = {"state": r.state, "info": r.info}
print(json.dumps(out))
