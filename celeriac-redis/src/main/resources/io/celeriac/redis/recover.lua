-- Deliver again what dead consumers held, as kombu's restore does: every unacked entry whose
-- score is below now - visibility (a Celeriac worker's lapsed lease, a parked message come due, a
-- Python consumer's message older than its visibility timeout) goes back to its list. Then, for
-- every queue with parked messages and no live Celeriac consumer left, the parked messages go back
-- to the list too, where Python workers take them. Atomic, so several workers may run it at once.
-- ARGV: now_ms, visibility_ms, lease_end_ms, consumer, queue... (the caller's: it is a live
-- consumer of them, recorded first so that it does not hand back what it is about to take)
local now = tonumber(ARGV[1])
for i = 5, #ARGV do
  redis.call('ZADD', 'celeriac.consumers.' .. ARGV[i], ARGV[3], ARGV[4])
end
local n = 0
local stale = redis.call('ZRANGEBYSCORE', 'unacked_index', '-inf', (now - tonumber(ARGV[2])) / 1000, 'LIMIT', 0, 1000)
for _, tag in ipairs(stale) do
  local e = redis.call('HGET', 'unacked', tag)
  if e then
    local item, q = item_of(e)
    if item then
      redis.call('RPUSH', key(q, bucket_of(item)), item)
      n = n + 1
    end
  end
  forget(tag)
end
-- in-flight records of an earlier Celeriac (celeriac.unacked, "bucket\nqueue\nmessage")
local old = redis.call('ZRANGEBYSCORE', 'celeriac.unacked_index', '-inf', now, 'LIMIT', 0, 1000)
for _, tag in ipairs(old) do
  local e = redis.call('HGET', 'celeriac.unacked', tag)
  if e then
    local b, q, m = string.match(e, '^(%d)\n([^\n]*)\n(.*)$')
    if m then
      redis.call('RPUSH', key(q, b), m)
      n = n + 1
    end
  end
  redis.call('HDEL', 'celeriac.unacked', tag)
  redis.call('ZREM', 'celeriac.unacked_index', tag)
end
for _, q in ipairs(redis.call('SMEMBERS', 'celeriac.delayed_queues')) do
  local ck = 'celeriac.consumers.' .. q
  redis.call('ZREMRANGEBYSCORE', ck, '-inf', now)
  if redis.call('ZCARD', ck) == 0 then
    n = n + unpark(q, nil)
  end
end
return n
