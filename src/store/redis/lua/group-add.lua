--[[ Adds channels to a channel group (idempotent); the group exists while it has members.
KEYS[1]   cg:<group>: SET of the group's channels
KEYS[2]   cgs: SET of the keyset's non-empty groups
ARGV[1]   group name
ARGV[2..] channels to add (possibly none)
Returns the group's member count after the add.
]]
for i = 2, #ARGV, 1000 do
  local chunk = {}
  for j = i, math.min(i + 999, #ARGV) do chunk[#chunk + 1] = ARGV[j] end
  redis.call('SADD', KEYS[1], unpack(chunk))
end
local count = redis.call('SCARD', KEYS[1])
if count > 0 then redis.call('SADD', KEYS[2], ARGV[1]) end
return count
