"""A chord whose header runs on Python and Celeriac workers at once: prints the body's result and who ran each part."""
import json

from celery import chord
from celery.result import AsyncResult

from interop import app, slow_add, tsum

r = chord([slow_add.s(i, 1000) for i in range(40)], tsum.s()).apply_async()
total = r.get(timeout=120)
workers = [AsyncResult(c.id, app=app)._get_task_meta().get("worker") for c in r.parent.results]
print(json.dumps({"total": total, "workers": workers}))
