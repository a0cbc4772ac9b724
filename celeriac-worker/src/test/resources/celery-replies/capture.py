#!/usr/bin/python3
"""Capture the REAL Python Celery 5.2 worker's remote-control ("inspect" /
"control") replies, so Celeriac's worker can be checked against them.

The JSON files beside this script are its output; Java tests read them.

How to run (Celery 5.2.6, kombu 5.2.4, redis-py on the system Python -- i.e.
/usr/bin/python3, not a virtualenv python -- and `redis-server`/`redis-cli`
on PATH):

    cd celeriac-worker/src/test/resources/celery-replies
    /usr/bin/python3 capture.py              # every phase below
    /usr/bin/python3 capture.py prefork      # only the main capture
    /usr/bin/python3 capture.py threads solo autoscale mem   # any subset

The script starts its own redis-server (port $CAPTURE_REDIS_PORT, default
6398, data dir in a fresh temp dir, no persistence) and stops it at the end.
Each phase starts, from this directory,

    C_FORCE_ROOT=1 /usr/bin/python3 -m celery -A capture worker \
        -P <pool> -c 2 -n pyworker@%h --loglevel INFO

(stopped by the `shutdown` control command, then by SIGQUIT to its pid), sets the
worker up, and sends it requests with `app.control.inspect(...)` /
`app.control.broadcast(..., reply=True)`.  Files are written to
$CAPTURE_OUT (default: this directory):

  prefork   -> replies.json (every method), types.json (type skeletons),
               panel.json (the worker's Panel registry), wire.json and
               wire-monitor.txt (`redis-cli MONITOR` of one `inspect ping`)
  threads   -> replies-threads.json (same scenario, -P threads)
  solo      -> replies-solo.json (idle worker, -P solo; also shows that a
               busy solo worker does not answer at all, and `election`,
               which crashes a lone Python worker after replying null)
  autoscale -> replies-autoscale.json (-P prefork --autoscale=4,2)
  mem       -> replies-mem.json (memsample/memdump/objgraph only; run it
               once with and once without python3-psutil to see both)

The state of the worker while the prefork/threads captures run: 2 `slow`
tasks active (concurrency 2), 3 `slow` tasks reserved (prefetched), one
`slow` task with countdown=120 (scheduled, held in the worker's timer), and
one revoked id that was never sent.  replies*.json layout:

    {"_meta": {...},
     "<case>": {"command": "<method name on the wire>",
                "request_args": {<the "arguments" of the pidbox message>},
                "replies_received": <int>,
                "reply": <the value under the node name, as received>}}

`reply` is absent (and replies_received is 0) when the worker sent nothing.
"""
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

sys.dont_write_bytecode = True

from celery import Celery  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PORT = int(os.environ.get('CAPTURE_REDIS_PORT', '6398'))
URL = f'redis://127.0.0.1:{PORT}/0'
OUT = os.environ.get('CAPTURE_OUT', HERE)
PYTHON = '/usr/bin/python3'
NODE = 'pyworker@' + socket.gethostname()
TIMEOUT = 2.0

app = Celery('capture', broker=URL, backend=URL)
app.conf.update(
    task_serializer='json',
    result_serializer='json',
    accept_content=['json'],
    enable_utc=True,
)


@app.task(name='add', rate_limit='10/m')
def add(x, y):
    return x + y


@app.task(name='slow')
def slow(seconds):
    time.sleep(seconds)
    return seconds


# --------------------------------------------------------------------------
# helpers

_sent = []  # (command, arguments) of every broadcast, recorded by the hook
_orig_broadcast = app.control.broadcast


def _recording_broadcast(command, arguments=None, *args, **kwargs):
    _sent.append((command, dict(arguments or {})))
    return _orig_broadcast(command, arguments, *args, **kwargs)


app.control.broadcast = _recording_broadcast


def jsonable(value):
    """What the request looked like after JSON (tuples become lists)."""
    return json.loads(json.dumps(value))


def call(command, arguments=None, timeout=TIMEOUT, destination=True):
    """Broadcast `command` with reply=True; return (arguments, raw replies)."""
    dest = [NODE] if destination else None
    raw = app.control.broadcast(command, arguments=arguments or {},
                                destination=dest, reply=True,
                                timeout=timeout)
    return _sent[-1][1], raw


def entry(command, request_args, raw):
    out = {'command': command, 'request_args': jsonable(request_args),
           'replies_received': len(raw or [])}
    for item in raw or []:
        if NODE in item:
            out['reply'] = item[NODE]
    return out


class Capture:
    def __init__(self):
        self.cases = {}

    def bcast(self, case, command, arguments=None, timeout=TIMEOUT):
        args, raw = call(command, arguments, timeout=timeout)
        self.cases[case] = entry(command, args, raw)
        print(f'  {case}: {json.dumps(self.cases[case].get("reply"))[:160]}',
              flush=True)
        return self.cases[case].get('reply')

    def ctl(self, case, method, *args, **kwargs):
        """Call app.control.<method>(..., reply=True) as Python code would."""
        timeout = kwargs.pop('timeout', TIMEOUT)
        before = len(_sent)
        raw = getattr(app.control, method)(*args, reply=True, timeout=timeout,
                                           destination=[NODE], **kwargs)
        command, sent_args = _sent[before]
        self.cases[case] = entry(command, sent_args, raw)
        print(f'  {case}: {json.dumps(self.cases[case].get("reply"))[:160]}',
              flush=True)
        return self.cases[case].get('reply')

    def inspect(self, case, method, *args, **kwargs):
        """Call app.control.inspect(...).<method>(*args) like `celery inspect`."""
        timeout = kwargs.pop('timeout', TIMEOUT)
        insp = app.control.inspect(timeout=timeout, destination=[NODE])
        before = len(_sent)
        by_node = getattr(insp, method)(*args, **kwargs)
        command, sent_args = _sent[before]
        raw = [{n: r} for n, r in (by_node or {}).items()]
        self.cases[case] = entry(command, sent_args, raw)
        print(f'  {case}: {json.dumps(self.cases[case].get("reply"))[:160]}',
              flush=True)
        return self.cases[case].get('reply')


def wait_for(pred, what, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if pred():
                return
        except Exception:  # noqa: BLE001
            pass
        time.sleep(0.3)
    raise SystemExit(f'timed out waiting for {what}')


def node_reply(command, arguments=None):
    _, raw = call(command, arguments, timeout=1.0)
    for item in raw or []:
        if NODE in item:
            return item[NODE]
    return None


def start_redis(tmp):
    data = os.path.join(tmp, 'redis')
    os.makedirs(data)
    subprocess.check_call(['redis-server', '--port', str(PORT), '--save', '',
                           '--appendonly', 'no', '--daemonize', 'yes',
                           '--dir', data,
                           '--pidfile', os.path.join(data, 'redis.pid')])
    wait_for(lambda: subprocess.run(['redis-cli', '-p', str(PORT), 'ping'],
                                    capture_output=True).stdout.strip()
             == b'PONG', 'redis')
    return os.path.join(data, 'redis.pid')


def stop_redis(pidfile):
    try:
        with open(pidfile) as fh:
            os.kill(int(fh.read().strip()), signal.SIGTERM)
    except (OSError, ValueError):
        pass


def start_worker(tmp, pool, extra=()):
    subprocess.check_call(['redis-cli', '-p', str(PORT), 'flushall'],
                          stdout=subprocess.DEVNULL)
    log = open(os.path.join(tmp, f'worker-{pool}.log'), 'w')
    env = dict(os.environ, C_FORCE_ROOT='1', PYTHONDONTWRITEBYTECODE='1',
               CAPTURE_REDIS_PORT=str(PORT))
    cmd = [PYTHON, '-m', 'celery', '-A', 'capture', 'worker', '-P', pool,
           '-c', '2', '-n', 'pyworker@%h', '--loglevel', 'INFO', *extra]
    proc = subprocess.Popen(cmd, cwd=HERE, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    wait_for(lambda: node_reply('ping') == {'ok': 'pong'}, 'worker ping', 60)
    return proc, cmd


def stop_worker(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGQUIT)  # cold shutdown: ends the children
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def count(method):
    r = node_reply(method)
    return len(r) if isinstance(r, list) else -1


def setup_state(meta):
    """2 active, 3 reserved, 1 scheduled (countdown=120), 1 revoked id."""
    r = add.delay(2, 3)
    meta['add_result'] = r.get(timeout=20)
    meta['add_id'] = r.id
    active_ids = [str(uuid.uuid4()) for _ in range(2)]
    for tid in active_ids:
        slow.apply_async((300,), task_id=tid)
    wait_for(lambda: count('active') == 2, '2 active tasks')
    reserved_ids = [str(uuid.uuid4()) for _ in range(3)]
    for tid in reserved_ids:
        slow.apply_async((300,), task_id=tid)
    wait_for(lambda: count('reserved') == 3, '3 reserved tasks')
    scheduled_id = str(uuid.uuid4())
    slow.apply_async((1,), task_id=scheduled_id, countdown=120)
    wait_for(lambda: count('scheduled') == 1, '1 scheduled task')
    meta.update(active_ids=active_ids, reserved_ids=reserved_ids,
                scheduled_id=scheduled_id,
                revoked_id=str(uuid.uuid4()),
                unknown_id=str(uuid.uuid4()))


def full_scenario(cap, meta):
    """Every inspect and control command, ending with `shutdown`."""
    active0 = meta['active_ids'][0]
    reserved0 = meta['reserved_ids'][0]
    # the one revoked id (never sent to the worker)
    cap.ctl('revoke', 'revoke', meta['revoked_id'])
    cap.inspect('ping', 'ping')
    cap.inspect('stats', 'stats')
    cap.inspect('active', 'active')
    cap.inspect('active_safe', 'active', safe=True)
    cap.inspect('reserved', 'reserved')
    cap.inspect('scheduled', 'scheduled')
    cap.inspect('registered', 'registered')
    cap.inspect('registered_taskinfoitems', 'registered',
                'rate_limit', 'time_limit')
    cap.bcast('registered_builtins', 'registered', {'builtins': True})
    cap.inspect('registered_tasks', 'registered_tasks')
    cap.bcast('dump_tasks', 'dump_tasks')
    cap.inspect('revoked', 'revoked')
    cap.inspect('active_queues', 'active_queues')
    cap.inspect('query_task_active', 'query_task', active0)
    cap.inspect('query_task_reserved', 'query_task', reserved0)
    cap.inspect('query_task_scheduled', 'query_task', meta['scheduled_id'])
    cap.inspect('query_task_unknown', 'query_task', meta['unknown_id'])
    cap.inspect('query_task_many', 'query_task', active0, reserved0,
                meta['scheduled_id'], meta['unknown_id'])
    cap.bcast('query_task_string_id', 'query_task', {'ids': active0})
    cap.inspect('report', 'report')
    cap.inspect('clock', 'clock')
    cap.inspect('conf', 'conf', with_defaults=False)
    cap.inspect('memsample', 'memsample')
    cap.inspect('memdump', 'memdump')
    cap.inspect('objgraph', 'objgraph')
    # aliases registered in Panel.data
    for alias in ('dump_active', 'dump_reserved', 'dump_schedule',
                  'dump_revoked', 'dump_conf'):
        cap.bcast(alias, alias)
    # mingle's hello: from another node, with that node's revoked map
    other_revoked = str(uuid.uuid4())
    cap.inspect('hello', 'hello', 'othernode@capture',
                {other_revoked: time.monotonic()})
    meta['hello_other_revoked_id'] = other_revoked
    cap.inspect('hello_from_self', 'hello', NODE, {})
    cap.inspect('revoked_after_hello', 'revoked')
    cap.ctl('enable_events', 'enable_events')
    cap.ctl('enable_events_again', 'enable_events')
    cap.ctl('disable_events', 'disable_events')
    cap.ctl('disable_events_again', 'disable_events')
    cap.ctl('heartbeat', 'heartbeat')
    cap.ctl('time_limit', 'time_limit', 'slow', soft=60, hard=120)
    cap.ctl('time_limit_unknown_task', 'time_limit', 'nosuch', soft=1, hard=2)
    cap.inspect('registered_after_time_limit', 'registered',
                'rate_limit', 'time_limit', 'soft_time_limit')
    cap.ctl('rate_limit', 'rate_limit', 'add', '20/m')
    cap.ctl('rate_limit_disable', 'rate_limit', 'add', '')
    cap.ctl('rate_limit_invalid', 'rate_limit', 'add', 'x/y')
    cap.ctl('rate_limit_unknown_task', 'rate_limit', 'nosuch', '1/s')
    cap.ctl('rate_limit_restore', 'rate_limit', 'add', '10/m')
    cap.ctl('pool_grow', 'pool_grow', 1)
    time.sleep(1.0)
    cap.inspect('stats_after_pool_grow', 'stats')
    cap.ctl('pool_shrink', 'pool_shrink', 1)
    time.sleep(1.0)
    cap.ctl('autoscale', 'autoscale', 4, 1)
    cap.ctl('pool_restart', 'pool_restart')
    cap.ctl('add_consumer', 'add_consumer', 'extra')
    time.sleep(1.0)
    cap.inspect('active_queues_after_add_consumer', 'active_queues')
    cap.ctl('cancel_consumer', 'cancel_consumer', 'extra')
    time.sleep(1.0)
    cap.inspect('active_queues_after_cancel_consumer', 'active_queues')
    cap.bcast('unknown_command', 'nosuch')
    cap.bcast('bad_arguments', 'rate_limit', {'task_name': 'add'})
    cap.ctl('revoke_many', 'revoke', [reserved0, meta['unknown_id']])
    cap.ctl('revoke_terminate_unknown', 'revoke', [str(uuid.uuid4())],
            terminate=True)
    # app.control.terminate() sends `revoke` with terminate=True ...
    cap.ctl('control_terminate', 'terminate', active0)
    # ... while `celery control terminate SIGTERM <id>` sends `terminate`
    cap.bcast('terminate', 'terminate',
              {'signal': 'SIGTERM', 'task_id': meta['active_ids'][1]})
    time.sleep(1.5)
    cap.inspect('active_after_terminate', 'active')
    cap.inspect('revoked_at_end', 'revoked')
    cap.inspect('stats_at_end', 'stats')
    cap.ctl('shutdown', 'shutdown', timeout=3.0)


# --------------------------------------------------------------------------
# type skeletons

def skeleton(value):
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'boolean'
    if isinstance(value, int):
        return 'integer'
    if isinstance(value, float):
        return 'float'
    if isinstance(value, str):
        return 'string'
    if isinstance(value, list):
        items = []
        for v in value:
            s = skeleton(v)
            if s not in items:
                items.append(s)
        return {'type': 'array', 'length': len(value), 'items': items}
    if isinstance(value, dict):
        return {'type': 'object',
                'keys': {k: skeleton(v) for k, v in value.items()}}
    raise TypeError(type(value))


def write(name, data):
    path = os.path.join(OUT, name)
    with open(path, 'w') as fh:
        json.dump(data, fh, indent=2, sort_keys=False)
        fh.write('\n')
    print(f'wrote {path}', flush=True)


def meta_base(pool, cmd):
    import celery
    import kombu
    try:
        import psutil  # noqa: F401
        has_psutil = True
    except ImportError:
        has_psutil = False
    return {'celery': celery.__version__, 'kombu': kombu.__version__,
            'python': sys.version.split()[0], 'pool': pool, 'node': NODE,
            'worker_command': ' '.join(cmd), 'broker': URL,
            'psutil_installed': has_psutil,
            'captured_at': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}


# --------------------------------------------------------------------------
# panel registry

def panel():
    from celery.worker.control import Panel

    def argtype(t):
        return getattr(t, '__name__', repr(t))

    commands = {}
    for name, m in sorted(Panel.meta.items()):
        commands[name] = {
            'type': m.type, 'alias': m.alias, 'visible': m.visible,
            'default_timeout': m.default_timeout, 'help': m.help,
            'signature': m.signature,
            'args': [[a, argtype(t)] for a, t in (m.args or [])] or None,
            'variadic': m.variadic,
            'handler': Panel.data[name].__name__,
        }
    aliases = {k: v.__name__ for k, v in sorted(Panel.data.items())
               if k not in Panel.meta}
    return {'_note': 'celery.worker.control.Panel.meta (commands) and the '
                     'extra names in Panel.data (aliases -> handler).',
            'commands': commands,
            'handler_names': sorted(Panel.data),
            'aliases': aliases}


# --------------------------------------------------------------------------
# wire capture

def decode_monitor(lines):
    """Pick the pidbox commands out of MONITOR output and decode them."""
    out = []
    for line in lines:
        if 'pidbox' not in line and 'SUBSCRIBE' not in line:
            continue
        try:
            # MONITOR quotes each argument "..." with C-style escapes
            rest = line.split('] ', 1)[1]
            args, cur, i, inq = [], '', 0, False
            while i < len(rest):
                c = rest[i]
                if inq:
                    if c == '\\':
                        nxt = rest[i + 1]
                        if nxt == 'x':
                            cur += chr(int(rest[i + 2:i + 4], 16))
                            i += 3
                        else:
                            cur += {'n': '\n', 'r': '\r', 't': '\t',
                                    '"': '"', '\\': '\\'}.get(nxt, nxt)
                            i += 1
                    elif c == '"':
                        inq = False
                        args.append(cur)
                        cur = ''
                    else:
                        cur += c
                elif c == '"':
                    inq = True
                i += 1
        except Exception:  # noqa: BLE001
            continue
        rec = {'redis_command': args}
        for a in args[1:]:
            if a.startswith('{'):
                try:
                    payload = json.loads(a)
                except ValueError:
                    continue
                rec['payload'] = payload
                body = payload.get('body')
                if payload.get('properties', {}).get('body_encoding') \
                        == 'base64' and body:
                    rec['decoded_body'] = json.loads(base64.b64decode(body))
        out.append(rec)
    return out


def start_monitor(tmp, name):
    path = os.path.join(tmp, name)
    fh = open(path, 'w')
    mon = subprocess.Popen(['redis-cli', '-p', str(PORT), 'monitor'],
                           stdout=fh, stderr=subprocess.STDOUT)
    time.sleep(0.5)
    return mon, fh, path


def stop_monitor(mon, fh, path):
    mon.terminate()
    mon.wait()
    fh.close()
    with open(path) as fh:
        return fh.read().splitlines()


def wire_capture(tmp, startup_lines):
    mon, fh, path = start_monitor(tmp, 'monitor.txt')
    # exactly what `celery -A capture inspect ping` does (timeout 1.0)
    by_node = app.control.inspect(timeout=1.0).ping()
    time.sleep(0.5)
    lines = stop_monitor(mon, fh, path)
    startup = [ln for ln in startup_lines
               if 'pidbox' in ln or 'SUBSCRIBE' in ln]
    with open(os.path.join(OUT, 'wire-monitor.txt'), 'w') as fh:
        fh.write('# redis-cli MONITOR during app.control.inspect(timeout=1.0)'
                 '.ping() against one idle prefork worker\n')
        for line in lines:
            fh.write(line + '\n')
        fh.write('\n# worker start-up (lines naming pidbox, and every '
                 '(P)SUBSCRIBE), until its first ping reply\n')
        for line in startup:
            fh.write(line + '\n')
    write('wire.json', {'_note': 'pidbox-related MONITOR lines during one '
                                 'inspect().ping(), decoded; then the '
                                 'worker start-up ones',
                        'inspect_ping_result': by_node,
                        'commands': decode_monitor(lines),
                        'worker_startup': decode_monitor(startup)})


# --------------------------------------------------------------------------
# phases

def phase_prefork(tmp):
    subprocess.check_call(['redis-cli', '-p', str(PORT), 'flushall'],
                          stdout=subprocess.DEVNULL)
    mon = start_monitor(tmp, 'monitor-startup.txt')
    proc, cmd = start_worker(tmp, 'prefork')
    startup_lines = stop_monitor(*mon)
    try:
        wire_capture(tmp, startup_lines)
        meta = meta_base('prefork', cmd)
        setup_state(meta)
        cap = Capture()
        full_scenario(cap, meta)
        # warm shutdown: the worker waits for its running tasks (300 s)
        time.sleep(5.0)
        meta['worker_running_5s_after_shutdown'] = proc.poll() is None
        with open(os.path.join(tmp, f'worker-{meta["pool"]}.log')) as fh:
            meta['worker_log_after_shutdown'] = [
                ln for ln in fh.read().splitlines()
                if 'shutdown' in ln.lower()]
    finally:
        stop_worker(proc)
    write('replies.json', {'_meta': meta, **cap.cases})
    types = {case: skeleton(c['reply']) if 'reply' in c else 'no reply'
             for case, c in cap.cases.items()}
    for extra in ('threads', 'solo', 'autoscale'):
        p = os.path.join(OUT, f'replies-{extra}.json')
        if os.path.exists(p):
            with open(p) as fh:
                other = json.load(fh)
            for case in ('stats',):
                if case in other and 'reply' in other[case]:
                    types[f'{case}@{extra}'] = skeleton(other[case]['reply'])
    dynamic = {
        'stats': ['total'], 'stats_*': ['total'],
        'query_task_*': ['<root>'], 'hello': ['revoked'],
        'conf': ['<root>'], 'dump_conf': ['<root>'],
    }
    write('types.json', {
        '_dynamic_key_objects': dynamic,
        '_note': 'JSON type skeleton of each reply in replies.json (prefork '
                 'worker) plus stats@<pool> from replies-<pool>.json. '
                 'Scalars: string|integer|float|boolean|null. object: '
                 '{"type":"object","keys":{...}}; array: {"type":"array",'
                 '"length":n,"items":[distinct element skeletons, first-seen '
                 'order]}. Objects listed in _dynamic_key_objects (path '
                 'inside the reply) are maps keyed by task ids / task names '
                 '/ setting names: their keys are data, not schema.',
        **types})
    write('panel.json', panel())


def phase_threads(tmp):
    proc, cmd = start_worker(tmp, 'threads')
    try:
        meta = meta_base('threads', cmd)
        setup_state(meta)
        cap = Capture()
        full_scenario(cap, meta)
        # warm shutdown: the worker waits for its running tasks (300 s)
        time.sleep(5.0)
        meta['worker_running_5s_after_shutdown'] = proc.poll() is None
        with open(os.path.join(tmp, f'worker-{meta["pool"]}.log')) as fh:
            meta['worker_log_after_shutdown'] = [
                ln for ln in fh.read().splitlines()
                if 'shutdown' in ln.lower()]
    finally:
        stop_worker(proc)
    write('replies-threads.json', {'_meta': meta, **cap.cases})


def phase_solo(tmp):
    proc, cmd = start_worker(tmp, 'solo')
    try:
        meta = meta_base('solo', cmd)
        cap = Capture()
        r = add.delay(2, 3)
        meta['add_result'] = r.get(timeout=20)
        cap.inspect('ping', 'ping')
        cap.inspect('stats', 'stats')
        cap.inspect('active', 'active')
        cap.inspect('reserved', 'reserved')
        cap.inspect('scheduled', 'scheduled')
        cap.inspect('active_queues', 'active_queues')
        cap.ctl('pool_grow', 'pool_grow', 1)
        cap.ctl('pool_shrink', 'pool_shrink', 1)
        # a busy solo worker runs the task in its only thread: no replies
        slow.delay(4)
        time.sleep(1.0)
        cap.inspect('ping_while_task_runs', 'ping', timeout=1.0)
        time.sleep(4.0)
        cap.inspect('ping_after_task', 'ping')
        # `election` with a single worker: the reply is null, and then the
        # worker's gossip step crashes (IndexError in kombu's
        # LamportClock.sort_heap) and the worker shuts down.
        cap.bcast('election', 'election',
                  {'id': str(uuid.uuid4()), 'topic': 'capture.topic',
                   'action': None})
        time.sleep(2.0)
        cap.inspect('ping_after_election', 'ping', timeout=1.0)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            pass
        meta['worker_exit_code_after_election'] = proc.poll()
        with open(os.path.join(tmp, 'worker-solo.log')) as fh:
            meta['worker_log_after_election'] = [
                ln for ln in fh.read().splitlines()
                if 'Unrecoverable' in ln or 'IndexError' in ln]
    finally:
        stop_worker(proc)
    write('replies-solo.json', {'_meta': meta, **cap.cases})


def phase_autoscale(tmp):
    proc, cmd = start_worker(tmp, 'prefork', ['--autoscale=4,2'])
    try:
        meta = meta_base('prefork --autoscale=4,2', cmd)
        cap = Capture()
        cap.inspect('stats', 'stats')
        cap.ctl('autoscale', 'autoscale', 6, 1)
        cap.bcast('autoscale_max_only', 'autoscale', {'max': 5})
        cap.ctl('pool_grow', 'pool_grow', 1)
        cap.ctl('pool_shrink', 'pool_shrink', 1)
        cap.inspect('stats_after_autoscale', 'stats')
        cap.ctl('shutdown', 'shutdown', timeout=3.0)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            pass
    finally:
        stop_worker(proc)
    write('replies-autoscale.json', {'_meta': meta, **cap.cases})


def phase_mem(tmp):
    proc, cmd = start_worker(tmp, 'prefork')
    try:
        meta = meta_base('prefork', cmd)
        cap = Capture()
        cap.inspect('memdump_before_samples', 'memdump')
        cap.inspect('memsample', 'memsample')
        cap.inspect('memsample_2', 'memsample')
        cap.inspect('memdump', 'memdump')
        cap.inspect('objgraph', 'objgraph')
    finally:
        stop_worker(proc)
    name = 'replies-mem-psutil.json' if meta['psutil_installed'] \
        else 'replies-mem.json'
    write(name, {'_meta': meta, **cap.cases})


PHASES = {'threads': phase_threads, 'solo': phase_solo,
          'autoscale': phase_autoscale, 'mem': phase_mem,
          'prefork': phase_prefork}


def main(argv):
    # prefork last, so types.json can include the other pools' stats
    order = ['threads', 'solo', 'autoscale', 'mem', 'prefork']
    wanted = argv or order
    tmp = tempfile.mkdtemp(prefix='celery-replies-')
    pidfile = start_redis(tmp)
    try:
        for name in order:
            if name in wanted:
                print(f'== phase {name}', flush=True)
                PHASES[name](tmp)
    finally:
        stop_redis(pidfile)
        if os.environ.get('CAPTURE_KEEP_TMP') == '1':
            print(f'worker logs kept in {tmp}', flush=True)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main(sys.argv[1:])
