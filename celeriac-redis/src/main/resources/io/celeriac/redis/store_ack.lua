-- Store results (Celery's celery-task-meta-<id>, with expiry, and PUBLISH on the same name, which
-- wakes a waiting AsyncResult.get()), then ack messages, in one atomic step. A stored SUCCESS is
-- never overwritten (a duplicate run cannot replace it).
-- ARGV: expires_ms, n_results, (task_id, json) * n_results, tag...
local px = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
for i = 0, n - 1 do
  local k = 'celery-task-meta-' .. ARGV[3 + 2 * i]
  local v = ARGV[4 + 2 * i]
  local old = redis.call('GET', k)
  if not (old and string.find(old, '"status": ?"SUCCESS"')) then
    redis.call('SET', k, v, 'PX', px)
    redis.call('PUBLISH', k, v)
  end
end
for i = 3 + 2 * n, #ARGV do
  redis.call('HDEL', 'celeriac.unacked', ARGV[i])
  redis.call('ZREM', 'celeriac.unacked_index', ARGV[i])
  redis.call('HDEL', 'celeriac.deliveries', string.match(ARGV[i], '^([^#]*)'))
end
return n
