--[[ Marks a uuid present on a channel until expiresAtMs (new entry or refresh).
KEYS[1]   pexp: ZSET score expiresAtMs, member JSON [channel, uuid]
KEYS[2]   occ:<channel>: SET of the channel's uuids
KEYS[3]   uch:<uuid>: SET of the uuid's channels
KEYS[4]   pchans: SET of the keyset's channels with occupants
ARGV[1]   member (JSON [channel, uuid])
ARGV[2]   channel
ARGV[3]   uuid
ARGV[4]   expiresAtMs
Returns 1 when the uuid was not present before, 0 for a refresh.
]]
local added = redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
if added == 1 then
  redis.call('SADD', KEYS[2], ARGV[3])
  redis.call('SADD', KEYS[3], ARGV[2])
  redis.call('SADD', KEYS[4], ARGV[2])
end
return added
