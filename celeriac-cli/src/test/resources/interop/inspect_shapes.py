"""Asks a Python worker and a Celeriac worker the same inspect questions and prints, as one JSON
line, every place where the Celeriac reply lacks a key the Python one has or gives it another JSON type."""
import json
import sys

from interop import app

PY, JV = sys.argv[1], sys.argv[2]
DYNAMIC = {"total", "conf", "rate_limits"}  # objects whose keys are data, not schema


def kind(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def compare(path, py, jv, out):
    if py is None:
        return  # nothing to compare with
    if kind(py) != kind(jv):
        out.append(f"{path}: {kind(jv)} where Python has {kind(py)} ({json.dumps(py)[:80]})")
        return
    if isinstance(py, dict):
        if path.split(".")[-1] in DYNAMIC:
            return
        for k, v in py.items():
            if k not in jv:
                out.append(f"{path}.{k}: missing")
            else:
                compare(f"{path}.{k}", v, jv[k], out)
    elif isinstance(py, list) and py and jv:
        compare(path + "[0]", py[0], jv[0], out)


def ask(method, node, **kw):
    replies = app.control.broadcast(method, arguments=kw, destination=[node], reply=True, timeout=3)
    for r in replies:
        if node in r:
            return r[node]
    return "NO REPLY"


mismatches = []
replies = {}
for method, kw in [("ping", {}), ("stats", {}), ("active", {}), ("active", {"safe": True}), ("reserved", {}), ("scheduled", {}),
                   ("registered", {"taskinfoitems": []}), ("revoked", {}), ("active_queues", {}), ("report", {}),
                   ("clock", {}), ("conf", {"with_defaults": False}), ("memsample", {}), ("enable_events", {}),
                   ("disable_events", {}), ("heartbeat", {}), ("nosuchcommand", {})]:
    py, jv = ask(method, PY, **kw), ask(method, JV, **kw)
    name = method + ("(safe)" if kw.get("safe") else "")
    replies[name] = {"python": py, "celeriac": jv}
    if jv == "NO REPLY":
        mismatches.append(f"{name}: no reply")
        continue
    compare(name, py, jv, mismatches)
for node, other in [(PY, "python"), (JV, "celeriac")]:
    active = ask("active", node)
    ids = [t["id"] for t in active] if isinstance(active, list) else []
    replies["query_task@" + other] = ask("query_task", node, ids=ids + ["no-such-id"])
py_q, jv_q = replies["query_task@python"], replies["query_task@celeriac"]
if len(jv_q) != 1 or "no-such-id" in jv_q:
    mismatches.append(f"query_task: {json.dumps(jv_q)[:200]}")
elif py_q:
    compare("query_task", list(py_q.values())[0], list(jv_q.values())[0], mismatches)
print(json.dumps({"mismatches": mismatches, "replies": replies}, default=str))
