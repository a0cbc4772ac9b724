-- Count one chord part in Celery's Redis backend keys, for a result store whose broker is
-- elsewhere: returns every part's entry in header order when this one completed the chord (and
-- forgets the chord), else nothing.
-- ARGV: gid, index or '+inf', task id, entry, result_expires_ms
local jkey = 'celery-taskset-meta-' .. ARGV[1] .. '.j'
local tkey = 'celery-taskset-meta-' .. ARGV[1] .. '.t'
local skey = 'celery-taskset-meta-' .. ARGV[1] .. '.s'
for _, e in ipairs(redis.call('ZRANGEBYSCORE', jkey, ARGV[2], ARGV[2])) do
  if string.find(e, '"' .. ARGV[3] .. '"', 1, true) then return {} end
end
redis.call('ZADD', jkey, ARGV[2], ARGV[4])
local ex = math.max(1, math.floor(tonumber(ARGV[5]) / 1000))
redis.call('EXPIRE', jkey, ex)
local size = redis.call('GET', skey)
if not size then return {} end
local total = tonumber(size) + (tonumber(redis.call('GET', tkey) or '0') or 0)
if redis.call('ZCARD', jkey) ~= total then return {} end
local all = redis.call('ZRANGE', jkey, 0, -1)
redis.call('DEL', jkey, tkey, skey)
return all
