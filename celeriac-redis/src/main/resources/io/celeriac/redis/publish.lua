-- Publish: a ready message LPUSHed to its list, as kombu does (then a wake-up for waiting workers);
-- one with an ETA parked in the queue's delayed set until then.
-- ARGV: queue, bucket, eta_ms or '', payload
local SEP = '\6\22'
if ARGV[3] ~= '' then
  redis.call('ZADD', 'celeriac.delayed.' .. ARGV[1], tonumber(ARGV[3]), cjson.encode({b = tonumber(ARGV[2]), m = ARGV[4]}))
  return 0
end
local k = ARGV[1]
if ARGV[2] ~= '0' then k = ARGV[1] .. SEP .. ARGV[2] end
redis.call('LPUSH', k, ARGV[4])
redis.call('PUBLISH', 'celeriac.wake', ARGV[1])
return 1
