--[[ Adds channels to a channel group (idempotent); the group exists while it has members.
KEYS[1]   cg:<group>: SET of the group's channels
KEYS[2]   cgs: SET of the keyset's non-empty groups
ARGV[1]   group name
ARGV[2]   most members the group may hold after the add ('inf': no cap)
ARGV[3..] channels to add (possibly none)
Returns the group's member count after the add, or -1 (and adds nothing) when it would pass the cap:
checked in this script, so concurrent adds cannot pass it together.
]]
local max = ARGV[2]
if max ~= 'inf' then
  local added, seen = 0, {}
  for i = 3, #ARGV do
    local ch = ARGV[i]
    if not seen[ch] then
      seen[ch] = true
      if redis.call('SISMEMBER', KEYS[1], ch) == 0 then added = added + 1 end
    end
  end
  if redis.call('SCARD', KEYS[1]) + added > tonumber(max) then return -1 end
end
for i = 3, #ARGV, 1000 do
  local chunk = {}
  for j = i, math.min(i + 999, #ARGV) do chunk[#chunk + 1] = ARGV[j] end
  redis.call('SADD', KEYS[1], unpack(chunk))
end
local count = redis.call('SCARD', KEYS[1])
if count > 0 then redis.call('SADD', KEYS[2], ARGV[1]) end
return count
