--[[ Removes the expired grants of one keyset.
KEYS[1]   grants: HASH field -> value
KEYS[2]   gexp: ZSET score expiresAtMs, member field
ARGV[1]   nowMs: grants with expiresAtMs <= nowMs go
Returns the number of grants removed.
]]
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
for i = 1, #due, 1000 do
  local chunk = {}
  for j = i, math.min(i + 999, #due) do chunk[#chunk + 1] = due[j] end
  redis.call('HDEL', KEYS[1], unpack(chunk))
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
return #due
