-- Give a reserved message back, at the head of its list (the next to be delivered).
-- ARGV: tag
local SEP = '\6\22'
local e = redis.call('HGET', 'celeriac.unacked', ARGV[1])
if not e then return 0 end
local b, q, m = string.match(e, '^(%d)\n([^\n]*)\n(.*)$')
local k = q
if b ~= '0' then k = q .. SEP .. b end
redis.call('RPUSH', k, m)
redis.call('HDEL', 'celeriac.unacked', ARGV[1])
redis.call('ZREM', 'celeriac.unacked_index', ARGV[1])
return 1
