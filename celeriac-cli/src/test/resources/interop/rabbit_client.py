"""Python Celery as a client of a Celeriac worker on RabbitMQ: sends tasks, waits for their results, prints a JSON summary.

argv: the ids rabbit_prio.py printed (JSON), whose results and finishing times are read too.
"""
import json
import sys
import time

from celery import chain
from celery.result import AsyncResult

from rabbit_interop import add, app

out = {}
out["add"] = add.delay(2, 3).get(timeout=60)
out["kwargs"] = app.send_task("add", kwargs={"x": 40, "y": 2}).get(timeout=60)
out["echo"] = app.send_task("echo", args=["ünïcödé 🥬", {"nested": [1, 2.5, None, True, {"deep": ["中文"]}]}],
                            kwargs={"k": "v", "n": None}).get(timeout=60)
t0 = time.time()
out["countdown"] = app.send_task("add", args=(1, 2), countdown=2).get(timeout=60)
out["countdown_elapsed"] = time.time() - t0
try:
    app.send_task("fail", args=("boom",)).get(timeout=60)
    out["fail"] = "no exception"
except Exception as e:
    out["fail"] = {"type": type(e).__name__, "message": str(e)}
r = app.send_task("add", args=(5, 5), priority=9)
out["priority"] = r.get(timeout=60)
prio = json.loads(sys.argv[1])
high = AsyncResult(prio["high"], app=app)
out["prio_high"] = high.get(timeout=60)
lows = [AsyncResult(i, app=app) for i in prio["low"]]
out["prio_low"] = [x.get(timeout=60) for x in lows]
out["prio_high_first"] = all(high.date_done <= x.date_done for x in lows)
# a chain Python builds: the Celeriac worker runs both links, the second with the first's result
c = chain(add.s(1, 2), add.s(3)).apply_async()
out["chain"] = c.get(timeout=60)
out["chain_parent"] = c.parent.get(timeout=60)
# expires: the worker (one slot) is busy for 2 s, so the task is past its expiry when its turn comes: REVOKED, as Celery does
busy = app.send_task("sleep", args=(2,))
expiring = app.send_task("add", args=(1, 1), expires=1)
try:
    expiring.get(timeout=60)
    out["expired"] = "no exception"
except Exception as e:
    out["expired"] = {"type": type(e).__name__, "state": expiring.state}
busy.get(timeout=60)
print(json.dumps(out, default=str))
