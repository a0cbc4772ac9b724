-- Delete what waits on a queue: its lists and its parked messages (not what is in flight).
-- ARGV: queue. Returns how many.
local q = ARGV[1]
local n = 0
for _, b in ipairs({'0', '3', '6', '9'}) do
  n = n + redis.call('LLEN', key(q, b))
  redis.call('DEL', key(q, b))
end
local dk = 'celeriac.delayed.' .. q
for _, m in ipairs(redis.call('ZRANGE', dk, 0, -1)) do
  local tag = string.match(m, '^%d:(.*)$')
  if tag then forget(tag) end
  n = n + 1
end
redis.call('DEL', dk)
redis.call('SREM', 'celeriac.delayed_queues', q)
return n
