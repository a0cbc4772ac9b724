-- A Celeriac worker stops consuming (warm shutdown): it is no longer a consumer of its queues,
-- and a queue left with no live Celeriac consumer gets its parked messages back on its list,
-- where Python workers take them (they hold an ETA message until it is due, as Celery does).
-- ARGV: now_ms, node, queue...
local now = tonumber(ARGV[1])
local n = 0
for i = 3, #ARGV do
  local ck = 'celeriac.consumers.' .. ARGV[i]
  redis.call('ZREM', ck, ARGV[2])
  redis.call('ZREMRANGEBYSCORE', ck, '-inf', now)
  if redis.call('ZCARD', ck) == 0 then
    n = n + unpark(ARGV[i], nil)
  end
end
return n
