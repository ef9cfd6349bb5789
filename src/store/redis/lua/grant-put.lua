--[[ Replaces or withdraws Access Manager v2 grants of one keyset.
KEYS[1]   grants: HASH field -> value
KEYS[2]   gexp: ZSET score expiresAtMs, member field (grants that expire)
ARGV      per grant, 3 values: field (JSON [level, resource, authKey]),
          value (JSON [perms, ttlMinutes, expiresAtMs]; '' withdraws), expiresAtMs ('' = never)
Returns the number of grants processed.
]]
for i = 1, #ARGV, 3 do
  local field, value, exp = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if value == '' then
    redis.call('HDEL', KEYS[1], field)
    redis.call('ZREM', KEYS[2], field)
  else
    redis.call('HSET', KEYS[1], field, value)
    if exp == '' then
      redis.call('ZREM', KEYS[2], field)
    else
      redis.call('ZADD', KEYS[2], exp, field)
    end
  end
end
return #ARGV / 3
