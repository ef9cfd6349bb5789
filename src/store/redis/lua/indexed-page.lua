--[[ One page of a HASH's values in the code point order of its fields, read through a ZSET of the fields
kept beside it: App Context records by id (ObjectStore.page) and a side's memberships by the other id
(ObjectStore.membershipPage).
KEYS[1]   the HASH (obj:<kind>, mship:<uuid> or mbr:<channel>): field → JSON
KEYS[2]   its index (objidx:<kind>, mshipidx:<uuid> or mbridx:<channel>): ZSET of the fields, scores 0
ARGV[1]   'first', 'after' or 'before'
ARGV[2]   the field to page after or before ('' for 'first')
ARGV[3]   limit (at most 101)
Returns { values in ascending field order, 1/0 some field before the first, 1/0 some field after the last }.
The index is rebuilt from the HASH when their sizes differ (records written before it existed, or by
a node without it): O(records) once, then each page costs O(log n + limit).
]]
if redis.call('ZCARD', KEYS[2]) ~= redis.call('HLEN', KEYS[1]) then
  redis.call('DEL', KEYS[2])
  local ids = redis.call('HKEYS', KEYS[1])
  for i = 1, #ids, 500 do
    local args = {}
    for j = i, math.min(i + 499, #ids) do
      args[#args + 1] = 0
      args[#args + 1] = ids[j]
    end
    redis.call('ZADD', KEYS[2], unpack(args))
  end
end
local limit = tonumber(ARGV[3])
local ids
if ARGV[1] == 'after' then
  ids = redis.call('ZRANGEBYLEX', KEYS[2], '(' .. ARGV[2], '+', 'LIMIT', 0, limit)
elseif ARGV[1] == 'before' then
  ids = redis.call('ZREVRANGEBYLEX', KEYS[2], '(' .. ARGV[2], '-', 'LIMIT', 0, limit)
  local n = #ids
  for i = 1, math.floor(n / 2) do ids[i], ids[n - i + 1] = ids[n - i + 1], ids[i] end
else
  ids = redis.call('ZRANGEBYLEX', KEYS[2], '-', '+', 'LIMIT', 0, limit)
end
if #ids == 0 then return { {}, 0, 0 } end
local records = redis.call('HMGET', KEYS[1], unpack(ids))
local before = #redis.call('ZREVRANGEBYLEX', KEYS[2], '(' .. ids[1], '-', 'LIMIT', 0, 1)
local after = #redis.call('ZRANGEBYLEX', KEYS[2], '(' .. ids[#ids], '+', 'LIMIT', 0, 1)
return { records, before, after }
