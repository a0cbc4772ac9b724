"""Python Celery's canvas sent to Celeriac workers: prints one JSON line of what came back."""
import json
import math
import time
import uuid

from celery import chain, chord, group
from celery.result import AsyncResult

from interop import add, app, echo, fail, mul, on_error, slow_add, tsum

T = 60
out = {}
runs = app.backend.client


def count(key):
    return int(runs.hget("test.runs", key) or 0)


out["chain2"] = chain(add.s(1, 2), add.s(3)).apply_async().get(timeout=T)
r5 = chain(add.s(1000, 1), add.s(1), add.s(1), add.s(1), add.s(1)).apply_async()
out["chain5"] = r5.get(timeout=T)
out["chain5_parents"] = []
node = r5
while node is not None:
    out["chain5_parents"].append(node.id)
    node = node.parent
out["chain5_steps_ran"] = [count(f"add:{1000 + i}+1") for i in range(1, 5)]
out["immutable"] = chain(add.s(1, 2), add.si(10, 10), add.s(1)).apply_async().get(timeout=T)
out["group10"] = group(add.s(i, i) for i in range(10)).apply_async().get(timeout=T)
out["chord10"] = chord([add.s(i, i) for i in range(10)], tsum.s()).apply_async().get(timeout=T)
out["chord10_body_runs"] = count("tsum:[0, 2, 4, 6, 8, 10, 12, 14, 16, 18]")

linked = add.apply_async((2, 2), link=mul.s(10))
out["link"] = linked.get(timeout=T)
deadline = time.time() + T
while not linked.children and time.time() < deadline:
    time.sleep(0.1)
    linked = AsyncResult(linked.id, app=app)
out["link_child"] = linked.children[0].get(timeout=T) if linked.children else None

failed = fail.apply_async(link_error=on_error.s())
try:
    failed.get(timeout=T)
    out["link_error"] = "no exception"
except Exception as e:
    out["link_error"] = type(e).__name__
deadline = time.time() + T
while not runs.hexists("test.errbacks", failed.id) and time.time() < deadline:
    time.sleep(0.1)
out["link_error_called"] = runs.hexists("test.errbacks", failed.id)

base = 700000 + uuid.uuid4().int % 1000 * 10
middle = chain(add.si(base, 0), fail.si(), add.si(base, 1)).apply_async()
try:
    middle.get(timeout=T)
    out["middle"] = "no exception"
except Exception as e:
    out["middle"] = f"{type(e).__name__}: {e}"
out["middle_state"] = middle.state
out["middle_later_runs"] = count(f"add:{base}+1")
out["middle_first_runs"] = count(f"add:{base}+0")

out["chunks"] = add.chunks(zip(range(10), range(10)), 3).apply_async().get(timeout=T)
out["starmap"] = add.starmap(zip(range(3), range(3))).apply_async().get(timeout=T)
out["map"] = tsum.map([[1, 2], [3, 4]]).apply_async().get(timeout=T)
out["group_in_chain"] = chain(add.s(1, 1), group(add.s(1), add.s(2)), tsum.s()).apply_async().get(timeout=T)
out["chord_in_chain"] = chain(add.s(1, 1), chord([add.s(1), add.s(2)], tsum.s()), add.s(100)).apply_async().get(timeout=T)

bad = chord([add.s(1, 1), fail.si()], tsum.s().on_error(on_error.s())).apply_async()
try:
    bad.get(timeout=T)  # raises the failed header task's error first (Celery checks the parents)
except Exception:
    pass
deadline = time.time() + T
meta = app.backend.get_task_meta(bad.id)
while meta["status"] == "PENDING" and time.time() < deadline:
    time.sleep(0.1)
    meta = app.backend.get_task_meta(bad.id)
out["chord_error"] = f"{type(meta['result']).__name__}: {meta['result']}"
deadline = time.time() + T
while not runs.hexists("test.errbacks", bad.id) and time.time() < deadline:
    time.sleep(0.1)
out["chord_error_errback"] = runs.hexists("test.errbacks", bad.id)

floats = echo.delay(1.0, -0.0, 2.5, 3).get(timeout=T)["args"]
out["floats"] = [type(v).__name__ + ":" + repr(v) for v in floats]
print(json.dumps(out))
