--[[ Removes a uuid from a channel (state is left alone).
KEYS[1]   pexp: ZSET score expiresAtMs, member JSON [channel, uuid]
KEYS[2]   occ:<channel>: SET of the channel's uuids
KEYS[3]   uch:<uuid>: SET of the uuid's channels
KEYS[4]   pchans: SET of the keyset's channels with occupants
ARGV[1]   member (JSON [channel, uuid])
ARGV[2]   channel
ARGV[3]   uuid
Returns 1 when the uuid was present, else 0.
]]
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
if removed == 1 then
  redis.call('SREM', KEYS[2], ARGV[3])
  if redis.call('SCARD', KEYS[2]) == 0 then redis.call('SREM', KEYS[4], ARGV[2]) end
  redis.call('SREM', KEYS[3], ARGV[2])
end
return removed
