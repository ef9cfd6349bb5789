--[[ Pops due presence entries of one keyset. The caller read the candidates just before; this
re-checks each under the script's atomicity, so when several nodes sweep at once each entry is
popped (and returned) by exactly one of them, and an entry refreshed in between stays.
KEYS[1]                     pexp: ZSET score expiresAtMs, member JSON [channel, uuid]
KEYS[2]                     pchans: SET of the keyset's channels with occupants
KEYS[2i+1], KEYS[2i+2]      candidate i: occ:<channel> SET, uch:<uuid> SET
ARGV[1]                     nowMs: entries with expiresAtMs <= nowMs are due
ARGV[3i-1], ARGV[3i],
ARGV[3i+1]                  candidate i: member, channel, uuid
Returns {member, expiresAtMs, member, expiresAtMs, ...} for the entries this call removed.
]]
local now = tonumber(ARGV[1])
local popped = {}
for i = 1, (#ARGV - 1) / 3 do
  local member, channel, uuid = ARGV[3 * i - 1], ARGV[3 * i], ARGV[3 * i + 1]
  local occupants, channels = KEYS[2 * i + 1], KEYS[2 * i + 2]
  local score = redis.call('ZSCORE', KEYS[1], member)
  if score and tonumber(score) <= now then
    redis.call('ZREM', KEYS[1], member)
    redis.call('SREM', occupants, uuid)
    if redis.call('SCARD', occupants) == 0 then redis.call('SREM', KEYS[2], channel) end
    redis.call('SREM', channels, channel)
    popped[#popped + 1] = member
    popped[#popped + 1] = score
  end
end
return popped
