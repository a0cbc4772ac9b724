-- Give a reserved message back, at the consuming end of its list (the next to be delivered).
-- ARGV: tag
local e = redis.call('HGET', 'unacked', ARGV[1])
if not e then return 0 end
local item, q = item_of(e)
forget(ARGV[1])
if item then
  redis.call('RPUSH', key(q, bucket_of(item)), item)
  redis.call('PUBLISH', 'celeriac.wake', q)
end
return 1
