--[[ Physically removes expired messages from some channels of one keyset.
KEYS[1]                     mexpch: SET of the keyset's channels that have an expiry index
KEYS[3c-1], KEYS[3c],
KEYS[3c+1]                  channel c: msg ZSET (index), body HASH, mexp ZSET (expiry index)
ARGV[1]                     nowMs: messages with expiresAtMs <= nowMs go
ARGV[1+c]                   name of channel c
Returns the number of messages removed.
]]
local now = ARGV[1]
local removed = 0
for c = 1, (#KEYS - 1) / 3 do
  local msg, bodies, mexp = KEYS[3 * c - 1], KEYS[3 * c], KEYS[3 * c + 1]
  local due = redis.call('ZRANGEBYSCORE', mexp, '-inf', now)
  for i = 1, #due, 1000 do
    local chunk = {}
    for j = i, math.min(i + 999, #due) do chunk[#chunk + 1] = due[j] end
    redis.call('ZREM', msg, unpack(chunk))
    redis.call('HDEL', bodies, unpack(chunk))
  end
  redis.call('ZREMRANGEBYSCORE', mexp, '-inf', now)
  removed = removed + #due
  if redis.call('EXISTS', mexp) == 0 then redis.call('SREM', KEYS[1], ARGV[1 + c]) end
end
return removed
