-- Publish: a ready message LPUSHed to its list, as kombu does (then a wake-up for waiting
-- workers); one with a due time parked until then (see lib.lua).
-- ARGV: queue, bucket, due_ms or '', payload, visibility_ms
publish(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
return 1
