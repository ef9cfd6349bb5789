--[[ Stores one App Context record if the stored one is as the caller last read it (compare-and-set).
KEYS[1]   obj:<kind>: HASH id → record JSON
KEYS[2]   objidx:<kind>: ZSET of the HASH's ids (scores 0), kept with it
ARGV[1]   id
ARGV[2]   record JSON
ARGV[3]   'any' (store unconditionally), 'absent' (only if no record) or 'match' (only if its eTag is ARGV[4])
ARGV[4]   expected eTag (for 'match')
Returns 1 when stored, 0 when the check failed.
]]
if ARGV[3] ~= 'any' then
  local current = redis.call('HGET', KEYS[1], ARGV[1])
  if ARGV[3] == 'absent' then
    if current then return 0 end
  elseif not current or cjson.decode(current).eTag ~= ARGV[4] then
    return 0
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
return 1
