#!/usr/bin/python3
"""Capture what the REAL Python Celery writes to Redis for canvas primitives.

The JSON files beside this script are its output; Java golden tests read them.

How to run (Celery 5.2.6, kombu 5.2.4, redis-py on the system Python; a
`redis-server` binary on PATH):

    cd celeriac-testkit/src/main/resources/io/celeriac/testkit/celery-canvas
    /usr/bin/python3 capture.py            # both phases
    /usr/bin/python3 capture.py publish    # phase 1 only: no worker
    /usr/bin/python3 capture.py worker     # phase 2 only: with a real worker

The script starts its own redis-server (port $CAPTURE_REDIS_PORT, default
6399, data dir in a fresh temp dir, no persistence) and stops it at the end.
Phase 2 starts `/usr/bin/python3 -m celery -A capture worker -P solo -c 1
--loglevel INFO` (env C_FORCE_ROOT=1) from this directory, and stops it by
its pid.  Files are written to $CAPTURE_OUT (default: this directory).

Every case: FLUSHDB, run the Python code shown in the file's "python" field,
wait (phase 2 only), then dump every key with its type, TTL and full contents.
Output file layout:

    {"case": ..., "python": "...", "ids": {...},
     "keys": {"<key>": {"type": "list|string|zset|set|hash", "ttl": <int>,
                        "value": <raw contents>, "json": <value parsed>}},
     "decoded_bodies": [{"key", "index", "headers", "properties", "body"}],
     ...}

`value` is raw: list -> elements in LRANGE 0 -1 order (kombu LPUSHes, so the
newest message comes first and a worker BRPOPs the last element); zset ->
[member, score] pairs in ZRANGE order; set -> sorted members; hash -> map.
Bytes that are not UTF-8 are given as {"base64": ...}.  `ttl` is Redis TTL
(-1 = no expiry).  `json` is present where the value (or each element)
parses as JSON.  The key `capture:on_error_calls` is NOT written by Celery:
the `on_error(*args)` test task records there what it was called with.
"""
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True

import redis  # noqa: E402
from celery import Celery, chain, chord, group, signature  # noqa: E402,F401
from celery.result import AsyncResult, GroupResult  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PORT = int(os.environ.get('CAPTURE_REDIS_PORT', '6399'))
URL = f'redis://127.0.0.1:{PORT}/0'
OUT = os.environ.get('CAPTURE_OUT', HERE)
EXTENDED = os.environ.get('CAPTURE_RESULT_EXTENDED') == '1'
PYTHON = '/usr/bin/python3'

app = Celery('capture', broker=URL, backend=URL)
app.conf.update(
    task_serializer='json',
    result_serializer='json',
    accept_content=['json'],
    enable_utc=True,
    result_extended=EXTENDED,
)


@app.task(name='add')
def add(x, y):
    return x + y


@app.task(name='tsum')
def tsum(numbers):
    return sum(numbers)


@app.task(name='mul')
def mul(x, y):
    return x * y


@app.task(name='fail')
def fail():
    raise ValueError('boom')


def _describe_arg(a):
    d = {'type': type(a).__name__, 'repr': repr(a)[:400]}
    if type(a).__name__ == 'Context':
        d['id'] = getattr(a, 'id', None)
        d['group'] = getattr(a, 'group', None)
        d['errbacks'] = getattr(a, 'errbacks', None)
    if isinstance(a, BaseException):
        d['args'] = [repr(x) for x in a.args]
    return d


@app.task(name='on_error')
def on_error(*args):
    # Not part of what Celery writes: a record of how the errback was called.
    # Celery 5.2 calls an errback whose function takes more than one argument
    # (or *args) in-process as errback(request, exc, traceback) -- no message.
    redis.Redis.from_url(URL).rpush(
        'capture:on_error_calls',
        json.dumps([_describe_arg(a) for a in args]))
    return None


@app.task(name='on_error_id')
def on_error_id(task_id):
    # A one-argument errback: Celery publishes it as a task with args [task_id].
    return task_id


# --------------------------------------------------------------------------
# dumping

def _dec(b):
    if isinstance(b, bytes):
        try:
            return b.decode('utf-8')
        except UnicodeDecodeError:
            return {'base64': base64.b64encode(b).decode('ascii')}
    return b


def _try_json(s):
    if not isinstance(s, str):
        return None
    try:
        return json.loads(s)
    except ValueError:
        return None


def _decode_message(msg):
    """A kombu Redis message (the JSON string of a queue element)."""
    if not isinstance(msg, dict) or 'body' not in msg or 'properties' not in msg:
        return None
    body = msg['body']
    if msg['properties'].get('body_encoding') == 'base64':
        body = base64.b64decode(body).decode('utf-8')
    if msg.get('content-type') == 'application/json':
        body = json.loads(body)
    return {'headers': msg.get('headers'), 'properties': msg['properties'],
            'content-type': msg.get('content-type'),
            'content-encoding': msg.get('content-encoding'), 'body': body}


def dump_db(r):
    keys = {}
    decoded = []
    for k in sorted(r.keys('*')):
        name = _dec(k)
        t = _dec(r.type(k))
        entry = {'type': t, 'ttl': r.ttl(k)}
        if t == 'string':
            v = _dec(r.get(k))
            entry['value'] = v
            j = _try_json(v)
            if j is not None:
                entry['json'] = j
        elif t == 'list':
            v = [_dec(x) for x in r.lrange(k, 0, -1)]
            entry['value'] = v
            js = [_try_json(x) for x in v]
            if any(x is not None for x in js):
                entry['json'] = js
            for i, m in enumerate(js):
                d = _decode_message(m)
                if d is not None:
                    decoded.append(dict({'key': name, 'index': i}, **d))
        elif t == 'zset':
            v = [[_dec(m), s] for m, s in r.zrange(k, 0, -1, withscores=True)]
            entry['value'] = v
            js = [[_try_json(m), s] for m, s in v]
            if any(m is not None for m, _ in js):
                entry['json'] = js
        elif t == 'set':
            entry['value'] = sorted((_dec(x) for x in r.smembers(k)), key=str)
        elif t == 'hash':
            v = {_dec(f): _dec(x) for f, x in sorted(r.hgetall(k).items())}
            entry['value'] = v
            js = {f: _try_json(x) for f, x in v.items()}
            if any(x is not None for x in js.values()):
                entry['json'] = js
            if name == 'unacked':
                for f, x in js.items():
                    if isinstance(x, list) and x:
                        d = _decode_message(x[0])
                        if d is not None:
                            decoded.append(dict({'key': name, 'field': f}, **d))
        else:
            entry['value'] = None
        keys[name if isinstance(name, str) else json.dumps(name)] = entry
    return keys, decoded


def result_tree(res, depth=0):
    if res is None or depth > 20:
        return None
    d = {'id': res.id, 'class': type(res).__name__}
    if isinstance(res, GroupResult):
        d['results'] = [result_tree(x, depth + 1) for x in res.results]
    if res.parent is not None:
        d['parent'] = result_tree(res.parent, depth + 1)
    return d


def ids_of(res):
    ids = {'result': res.id, 'result_class': type(res).__name__}
    parents = []
    p = res.parent
    while p is not None:
        parents.append({'id': p.id, 'class': type(p).__name__})
        p = p.parent
    ids['parents_nearest_first'] = parents
    if isinstance(res, GroupResult):
        ids['group_id'] = res.id
        ids['group_children'] = [x.id for x in res.results]
    groups = {}

    def walk(x):
        if x is None:
            return
        if isinstance(x, GroupResult):
            groups[x.id] = [c.id for c in x.results]
            for c in x.results:
                walk(c)
        walk(x.parent)
    walk(res)
    if groups:
        ids['groups'] = groups
    ids['tree'] = result_tree(res)
    return ids


def run_code(code, ns):
    try:
        compiled = compile(code, '<case>', 'eval')
    except SyntaxError:
        exec(compile(code, '<case>', 'exec'), ns)
        return ns['res']
    return eval(compiled, ns)


def namespace():
    return dict(app=app, add=add, tsum=tsum, mul=mul, fail=fail,
                on_error=on_error, on_error_id=on_error_id, chain=chain,
                group=group, chord=chord, signature=signature, r=rconn(),
                wait_for=wait_for, time=time)


def write(name, data):
    path = os.path.join(OUT, name + '.json')
    with open(path, 'w') as f:
        json.dump(data, f, indent=2, ensure_ascii=True)
        f.write('\n')
    print('wrote', path, flush=True)


def rconn():
    return redis.Redis.from_url(URL)


def wait_for(pred, timeout=30.0, what='condition'):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.1)
    raise TimeoutError('timed out waiting for ' + what)


# --------------------------------------------------------------------------
# phase 1: publish only, no worker

PUBLISH_CASES = [
    ('chain2', 'chain(add.s(1, 2), add.s(3)).apply_async()'),
    ('chain5', 'chain(add.s(1, 1), add.s(1), add.s(1), add.s(1), add.s(1)).apply_async()'),
    ('chain_immutable', 'chain(add.s(1, 2), add.si(10, 10), add.s(1)).apply_async()'),
    ('group3', 'group(add.s(i, i) for i in range(3)).apply_async()'),
    ('group3_saved', 'res = group(add.s(i, i) for i in range(3)).apply_async(); res.save()'),
    ('chord3', 'chord([add.s(i, i) for i in range(3)], tsum.s()).apply_async()'),
    ('chord_with_errback', 'chord([add.s(1, 1), fail.s()], tsum.s().on_error(on_error.s())).apply_async()'),
    ('link', 'add.apply_async((2, 2), link=mul.s(10))'),
    ('link_error', 'fail.apply_async(link_error=on_error.s())'),
    ('link_multi', 'add.apply_async((1, 1), link=[mul.s(2), mul.s(3)])'),
    ('chain_with_group', 'chain(add.s(1, 1), group(add.s(1), add.s(2)), tsum.s()).apply_async()'),
    ('group_in_chain_middle', 'chain(group(add.s(1, 1), add.s(2, 2)), tsum.s(), add.s(5)).apply_async()'),
    ('chunks', 'add.chunks(zip(range(10), range(10)), 3).apply_async()'),
    ('starmap', 'add.starmap(zip(range(3), range(3))).apply_async()'),
    ('map', 'tsum.map([[1, 2], [3, 4]]).apply_async()'),
    ('options', "add.s(1, 2).set(queue='other', priority=5, countdown=10, expires=60).apply_async()"),
    ('options_chain', "chain(add.s(1, 2), add.s(3).set(queue='other'), add.s(4)).apply_async()"),
    ('nested_chord_in_chain', 'chain(add.s(1, 1), chord([add.s(1), add.s(2)], tsum.s()), add.s(100)).apply_async()'),
]


def phase_publish(r):
    for name, code in PUBLISH_CASES:
        r.flushdb()
        t0 = time.time()
        res = run_code(code, namespace())
        t1 = time.time()
        keys, decoded = dump_db(r)
        write(name, {
            'case': name,
            'phase': 'publish (no worker running)',
            'python': code,
            'published_between_unix': [t0, t1],
            'ids': ids_of(res),
            'keys': keys,
            'decoded_bodies': decoded,
        })


# --------------------------------------------------------------------------
# phase 2: with a real worker

def _ready_states(r, ids):
    for i in ids:
        v = r.get('celery-task-meta-' + i)
        if v is None or json.loads(v)['status'] not in ('SUCCESS', 'FAILURE'):
            return False
    return True


def _meta_children(r, task_id):
    v = r.get('celery-task-meta-' + task_id)
    if v is None:
        return None
    return json.loads(v).get('children')


WORKER_CASES = [
    # (file name, code; `res` is the result; may wait with wait_for(...))
    ('after-chain2',
     'res = chain(add.s(1, 2), add.s(3)).apply_async(); res.get(timeout=30)'),
    ('after-chord3',
     'res = chord([add.s(i, i) for i in range(3)], tsum.s()).apply_async(); res.get(timeout=30)'),
    ('after-group3_saved',
     'res = group(add.s(i, i) for i in range(3)).apply_async(); res.save(); res.get(timeout=30)'),
    ('after-link',
     'res = add.apply_async((2, 2), link=mul.s(10)); res.get(timeout=30); '
     'wait_for(lambda: len(r.keys("celery-task-meta-*")) == 2 and '
     'all(b\'"SUCCESS"\' in r.get(k) for k in r.keys("celery-task-meta-*")), what="mul result")'),
    ('after-link_error',
     'res = fail.apply_async(link_error=on_error.s()); res.get(timeout=30, propagate=False); '
     'wait_for(lambda: r.llen("capture:on_error_calls") >= 1, what="errback")'),
    ('after-link_error_id_nobody',
     "res = fail.apply_async(link_error=on_error_id.s().set(queue='nobody')); "
     'res.get(timeout=30, propagate=False); '
     'wait_for(lambda: r.llen("nobody") >= 1, what="errback message")'),
    ('after-chord_with_errback',
     'res = chord([add.s(1, 1), fail.s()], tsum.s().on_error(on_error.s())).apply_async(); '
     'res.get(timeout=30, propagate=False); '
     'wait_for(lambda: r.llen("capture:on_error_calls") >= 1, what="errback")'),
    ('after-chord_with_errback_id_nobody',
     "res = chord([add.s(1, 1), fail.s()], tsum.s().on_error(on_error_id.s().set(queue='nobody'))).apply_async(); "
     'res.get(timeout=30, propagate=False); '
     'wait_for(lambda: r.llen("nobody") >= 1, what="errback message")'),
    ('after-chord3_body_nobody',
     "res = chord([add.s(i, i) for i in range(3)], tsum.s().set(queue='nobody')).apply_async(); "
     'wait_for(lambda: r.llen("nobody") >= 1, what="chord body message")'),
    ('after-chord_midway',
     "res = chord([add.s(1, 1), add.s(2, 2), add.s(3, 3).set(queue='nobody')], tsum.s()).apply_async(); "
     'wait_for(lambda: r.zcard("celery-taskset-meta-" + res.parent.id + ".j") >= 2, what=".j zset with 2 members")'),
    ('after-chain2_second_step_nobody',
     "res = chain(add.s(1, 2), add.s(3).set(queue='nobody')).apply_async(); "
     'wait_for(lambda: r.llen("nobody") >= 1, what="second step message")'),
    ('after-chain3_forwarded_nobody',
     "res = chain(add.s(1, 1), add.s(1).set(queue='nobody'), add.s(1)).apply_async(); "
     'wait_for(lambda: r.llen("nobody") >= 1, what="second step message")'),
    ('after-link_nobody',
     "res = add.apply_async((2, 2), link=mul.s(10).set(queue='nobody')); res.get(timeout=30); "
     'wait_for(lambda: r.llen("nobody") >= 1, what="link callback message")'),
    ('after-chain_with_group',
     'res = chain(add.s(1, 1), group(add.s(1), add.s(2)), tsum.s()).apply_async(); res.get(timeout=30)'),
    ('after-chain_with_group_header_nobody',
     "res = chain(add.s(1, 1), group(add.s(1).set(queue='nobody'), add.s(2).set(queue='nobody')), tsum.s()).apply_async(); "
     'wait_for(lambda: r.llen("nobody") >= 2, what="chord header messages published by the worker")'),
]

EXTENDED_CASES = [
    ('after-chain2_result_extended',
     'res = chain(add.s(1, 2), add.s(3)).apply_async(); res.get(timeout=30)'),
]


def start_worker(tmp, extended):
    env = dict(os.environ, C_FORCE_ROOT='1', PYTHONDONTWRITEBYTECODE='1',
               CAPTURE_REDIS_PORT=str(PORT),
               CAPTURE_RESULT_EXTENDED='1' if extended else '0')
    env['PYTHONPATH'] = HERE + (os.pathsep + env['PYTHONPATH']
                                if env.get('PYTHONPATH') else '')
    log_path = os.path.join(tmp, 'worker-%s.log' % ('ext' if extended else 'std'))
    log = open(log_path, 'w')
    p = subprocess.Popen(
        [PYTHON, '-m', 'celery', '-A', 'capture', 'worker', '-P', 'solo',
         '-c', '1', '--loglevel', 'INFO'],
        cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT)
    end = time.time() + 60
    while time.time() < end:
        with open(log_path) as f:
            if 'ready.' in f.read():
                return p, log_path
        if p.poll() is not None:
            break
        time.sleep(0.2)
    with open(log_path) as f:
        sys.stderr.write(f.read())
    raise RuntimeError('worker did not start')


def stop_worker(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def run_worker_cases(r, cases, worker_log, note):
    for name, code in cases:
        r.flushdb()
        time.sleep(0.3)
        with open(worker_log) as f:
            log_start = len(f.read())
        ns = namespace()
        res = run_code(code, ns)
        time.sleep(1.0)   # let the worker finish acking / storing
        keys, decoded = dump_db(r)
        with open(worker_log) as f:
            log = f.read()[log_start:]
        write(name, {
            'case': name,
            'phase': note,
            'python': code,
            'ids': ids_of(res),
            'keys': keys,
            'decoded_bodies': decoded,
            'worker_log': [ln for ln in log.splitlines() if ln.strip()],
        })


def phase_worker(r, tmp):
    p, log = start_worker(tmp, extended=False)
    try:
        run_worker_cases(r, WORKER_CASES, log,
                         'worker: celery -A capture worker -P solo -c 1 '
                         '(consumes queue "celery" only)')
    finally:
        stop_worker(p)
    r.flushdb()
    p, log = start_worker(tmp, extended=True)
    try:
        run_worker_cases(r, EXTENDED_CASES, log,
                         'worker with result_extended=True')
    finally:
        stop_worker(p)


# --------------------------------------------------------------------------

def start_redis(tmp):
    p = subprocess.Popen(
        ['redis-server', '--port', str(PORT), '--bind', '127.0.0.1',
         '--save', '', '--appendonly', 'no', '--dir', tmp],
        stdout=open(os.path.join(tmp, 'redis.log'), 'w'),
        stderr=subprocess.STDOUT)
    r = rconn()
    end = time.time() + 10
    while True:
        try:
            r.ping()
            return p, r
        except redis.ConnectionError:
            if time.time() > end or p.poll() is not None:
                raise
            time.sleep(0.1)


def main(argv):
    what = argv[1] if len(argv) > 1 else 'all'
    tmp = tempfile.mkdtemp(prefix='capture-redis-')
    rp, r = start_redis(tmp)
    try:
        if what in ('all', 'publish'):
            phase_publish(r)
        if what in ('all', 'worker'):
            phase_worker(r, tmp)
    finally:
        rp.terminate()
        rp.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main(sys.argv)
    # Skip interpreter teardown: pending AsyncResult.__del__ hooks would try
    # to reach the redis-server that has just been stopped.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
