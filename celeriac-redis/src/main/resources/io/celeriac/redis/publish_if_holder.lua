-- If the owner holds the lock: publish a message (optional) and write a record, atomically.
-- KEYS[1]: the lock. ARGV: owner, queue, bucket, due_ms or '', payload or '', record key, record value, visibility_ms
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[5] ~= '' then
  publish(ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[8])
end
redis.call('HSET', 'celeriac.records', ARGV[6], ARGV[7])
return 1
