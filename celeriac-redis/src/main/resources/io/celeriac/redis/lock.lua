-- Take or renew a lock for an owner. KEYS[1]: the lock; ARGV: owner, lease_ms. Returns 1 if held.
local cur = redis.call('GET', KEYS[1])
if cur == false or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
