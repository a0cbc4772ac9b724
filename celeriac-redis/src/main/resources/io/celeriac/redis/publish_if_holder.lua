-- If the owner holds the lock: publish a message (optional) and write a record, atomically.
-- KEYS[1]: the lock. ARGV: owner, queue, bucket, eta_ms or '', payload or '', record key, record value
local SEP = '\6\22'
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[5] ~= '' then
  if ARGV[4] ~= '' then
    redis.call('ZADD', 'celeriac.delayed.' .. ARGV[2], tonumber(ARGV[4]), cjson.encode({b = tonumber(ARGV[3]), m = ARGV[5]}))
  else
    local k = ARGV[2]
    if ARGV[3] ~= '0' then k = ARGV[2] .. SEP .. ARGV[3] end
    redis.call('LPUSH', k, ARGV[5])
    redis.call('PUBLISH', 'celeriac.wake', ARGV[2])
  end
end
redis.call('HSET', 'celeriac.records', ARGV[6], ARGV[7])
return 1
