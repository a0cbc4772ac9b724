-- Coordination.increment: KEYS[1] the counter; ARGV[1] delta; ARGV[2] its expiry in ms ("0": none).
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if ARGV[2] == '0' then
  redis.call('PERSIST', KEYS[1])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return v
