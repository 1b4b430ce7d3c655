"""The Redis store's Lua scripts: each verb that reads and then writes runs as one script, so it
is atomic across processes and costs one round trip.

Store layer: source text only. Every script takes the key prefix as ARGV[1] and builds its
keys from it (a single Redis server or Valkey; not a cluster). Gated scripts take the gate in
ARGV[2..8]: clock version, operation, key fingerprint ('' for none), limited ('1'/'0'),
requests per minute, now, the fake's seed (for rules that fire by chance).
"""

from __future__ import annotations

# `engine/faults.chance`: the same draw from the same seed (tests/store/test_lua_draw.py runs both).
CHANCE = """
local function chance(seed, id, draw)
  local digest = redis.sha1hex(seed .. ':' .. id .. ':' .. draw)
  return tonumber(string.sub(digest, 1, 8), 16) / 4294967296
end
"""
# The gate: a stale clock first (nothing is done), then fault rules, then the rate limit.
# Mirrors `engine/faults.take` and `engine/limits.hit`; whether a rule blocks comes with the rule
# (`codec.encode_rule`). `gate()` returns a refusal (reply as is) or nil, and the rule that fired
# without blocking ('' if none).
GATE = (
    CHANCE
    + """
local P = ARGV[1]
local function gate()
  local version = redis.call('HGET', P .. 'clock', 'v')
  if version and version ~= ARGV[2] then
    return {'clock', redis.call('HGET', P .. 'clock', 's')}, ''
  end
  local fired = ''
  if redis.call('LLEN', P .. 'rules') > 0 then
    for i, raw in ipairs(redis.call('LRANGE', P .. 'rules', 0, -1)) do
      local rule = cjson.decode(raw)
      if (rule.operation == cjson.null or rule.operation == ARGV[3])
          and (rule.key == cjson.null or rule.key == ARGV[4]) then
        local hit = rule.probability >= 1 or chance(ARGV[8], rule.id, rule.matched) < rule.probability
        rule.matched = rule.matched + 1
        if hit then
          fired = cjson.encode(rule)
          if rule.remaining > 1 then
            rule.remaining = rule.remaining - 1
            redis.call('LSET', P .. 'rules', i - 1, cjson.encode(rule))
          else
            redis.call('LSET', P .. 'rules', i - 1, '')
            redis.call('LREM', P .. 'rules', 1, '')
          end
          if rule.blocks then return {'rule', fired}, '' end
          break
        end
        redis.call('LSET', P .. 'rules', i - 1, cjson.encode(rule))
      end
    end
  end
  if ARGV[5] == '1' then
    local now, per_minute = tonumber(ARGV[7]), tonumber(ARGV[6])
    local start = math.floor(now / 60) * 60
    local hits = 0
    local window = redis.call('HGET', P .. 'windows', ARGV[4])
    if window then
      local began, counted = string.match(window, '^(%S+) (%S+)$')
      if tonumber(began) == start then hits = tonumber(counted) end
    end
    if hits >= per_minute then
      return {'wait', tostring(math.max(1, math.ceil(start + 60 - now)))}, ''
    end
    redis.call('HSET', P .. 'windows', ARGV[4], string.format('%.17g %d', start, hits + 1))
  end
  return nil, fired
end
"""
)

ADMIT = (
    GATE
    + """
local refused, fired = gate()
return refused or {'ok', fired}
"""
)

# ARGV[9]: the task id.
READ_TASK = (
    GATE
    + """
local refused, fired = gate()
if refused then return refused end
return {'ok', fired, redis.call('HGET', P .. 'tasks', ARGV[9])}
"""
)

# ARGV[9..15]: id, task, account (key|provider), credits, balance ('' for unlimited), number,
# created_at; ARGV[16]: media token; then (when, timer) pairs.
INSERT_TASK = (
    GATE
    + """
local refused, fired = gate()
if refused then return refused end
local id = ARGV[9]
if redis.call('HEXISTS', P .. 'tasks', id) == 1 then return {'taken', fired} end
local credits = tonumber(ARGV[12])
if ARGV[13] ~= '' then
  local spent = tonumber(redis.call('HGET', P .. 'spent', ARGV[11]) or '0')
  if spent + credits > tonumber(ARGV[13]) then return {'no_credits', fired} end
end
redis.call('HINCRBYFLOAT', P .. 'spent', ARGV[11], ARGV[12])
redis.call('HSET', P .. 'tasks', id, ARGV[10])
local owner = string.match(ARGV[11], '^(.*)|')  -- the account is key|provider
redis.call('SADD', P .. 'owned:' .. owner, id)
redis.call('SADD', P .. 'owners', owner)
redis.call('ZADD', P .. 'order', ARGV[14], id)
redis.call('ZADD', P .. 'created', ARGV[15], id)
redis.call('HSET', P .. 'media', ARGV[16], id)
for i = 17, #ARGV, 2 do redis.call('ZADD', P .. 'timers', ARGV[i], ARGV[i + 1]) end
return {'done', fired}
"""
)

# ARGV[2]: version, ARGV[3]: the encoded state.
SAVE_CLOCK = """
local P = ARGV[1]
local version = redis.call('HGET', P .. 'clock', 'v')
if not version or tonumber(ARGV[2]) > tonumber(version) then
  redis.call('HSET', P .. 'clock', 'v', ARGV[2], 's', ARGV[3])
  return ARGV[3]
end
return redis.call('HGET', P .. 'clock', 's')
"""

# ARGV[2]: version, ARGV[3]: the encoded state. Keeps the node counter and heartbeats.
RESET = """
local P = ARGV[1]
for _, node in ipairs(redis.call('SMEMBERS', P .. 'claimants')) do
  redis.call('UNLINK', P .. 'claims:' .. node)
end
for _, owner in ipairs(redis.call('SMEMBERS', P .. 'owners')) do
  redis.call('UNLINK', P .. 'owned:' .. owner)
end
for _, name in ipairs({'tasks', 'order', 'created', 'media', 'spent', 'windows', 'rules',
    'journal', 'journal:seq', 'deliveries', 'deliveries:order', 'deliveries:seq', 'timers',
    'claimants', 'seq', 'owners'}) do
  redis.call('UNLINK', P .. name)
end
redis.call('HSET', P .. 'clock', 'v', ARGV[2], 's', ARGV[3])
"""

# ARGV[2]: the media token.
TASK_BY_MEDIA = """
local id = redis.call('HGET', ARGV[1] .. 'media', ARGV[2])
if not id then return false end
return redis.call('HGET', ARGV[1] .. 'tasks', id)
"""

# ARGV[2]: the hash ('tasks' or 'deliveries'), ARGV[3]: id, ARGV[4]: what must be stored,
# ARGV[5]: its replacement; then, optionally, how many waiting timers to drop, those timers, and
# (when, timer) pairs to schedule with it.
SWAP = """
local P = ARGV[1]
local hash = P .. ARGV[2]
if redis.call('HGET', hash, ARGV[3]) ~= ARGV[4] then return 0 end
redis.call('HSET', hash, ARGV[3], ARGV[5])
local dropped = tonumber(ARGV[6] or '0')
for i = 7, 6 + dropped do redis.call('ZREM', P .. 'timers', ARGV[i]) end
for i = 7 + dropped, #ARGV, 2 do redis.call('ZADD', P .. 'timers', ARGV[i], ARGV[i + 1]) end
return 1
"""

# ARGV[2]: id, ARGV[3]: the delivery; then (when, timer) pairs.
PUT_DELIVERY = """
local P = ARGV[1]
redis.call('HSET', P .. 'deliveries', ARGV[2], ARGV[3])
redis.call('ZADD', P .. 'deliveries:order', 'NX', redis.call('INCR', P .. 'deliveries:seq'), ARGV[2])
for i = 4, #ARGV, 2 do redis.call('ZADD', P .. 'timers', ARGV[i], ARGV[i + 1]) end
"""

# ARGV[2]: a hash, ARGV[3]: the sorted set ordering it; the hash's values for the members
# scored from ARGV[4] to ARGV[5], in score order, at most ARGV[6] of them (with their scores).
PAGE = """
local P = ARGV[1]
local found = redis.call('ZRANGEBYSCORE', P .. ARGV[3], ARGV[4], ARGV[5], 'WITHSCORES', 'LIMIT', 0, ARGV[6])
local out = {}
for i = 1, #found, 2 do
  out[#out + 1] = found[i + 1]
  out[#out + 1] = redis.call('HGET', P .. ARGV[2], found[i]) or ''
end
return out
"""

# ARGV[2]: fake time; tasks created by then go, with their media and deliveries.
PRUNE = """
local P = ARGV[1]
local created_by = tonumber(ARGV[2])
local ids = redis.call('ZRANGEBYSCORE', P .. 'created', '-inf', ARGV[2])
for _, id in ipairs(ids) do
  local raw = redis.call('HGET', P .. 'tasks', id)
  if raw then
    local task = cjson.decode(raw)
    redis.call('HDEL', P .. 'media', task.media_token)
    redis.call('SREM', P .. 'owned:' .. task.owner, id)
  end
  redis.call('HDEL', P .. 'tasks', id)
  redis.call('ZREM', P .. 'order', id)
  redis.call('ZREM', P .. 'created', id)
end
for _, id in ipairs(redis.call('ZRANGE', P .. 'deliveries:order', 0, -1)) do
  local raw = redis.call('HGET', P .. 'deliveries', id)
  if not raw or cjson.decode(raw).created_at <= created_by then
    redis.call('HDEL', P .. 'deliveries', id)
    redis.call('ZREM', P .. 'deliveries:order', id)
  end
end
return #ids
"""

# ARGV[2]: a key's fingerprint. Its tasks (their media and deliveries), fault rules, journal
# entries, spending and rate-limit window go; the rest stays.
FORGET = """
local P, key = ARGV[1], ARGV[2]
local ids = redis.call('SMEMBERS', P .. 'owned:' .. key)
local gone = {}
for _, id in ipairs(ids) do
  gone[id] = true
  local raw = redis.call('HGET', P .. 'tasks', id)
  if raw then redis.call('HDEL', P .. 'media', cjson.decode(raw).media_token) end
  redis.call('HDEL', P .. 'tasks', id)
  redis.call('ZREM', P .. 'order', id)
  redis.call('ZREM', P .. 'created', id)
end
redis.call('DEL', P .. 'owned:' .. key)
redis.call('SREM', P .. 'owners', key)
for _, id in ipairs(redis.call('ZRANGE', P .. 'deliveries:order', 0, -1)) do
  local raw = redis.call('HGET', P .. 'deliveries', id)
  if raw and gone[cjson.decode(raw).task_id] then
    redis.call('HDEL', P .. 'deliveries', id)
    redis.call('ZREM', P .. 'deliveries:order', id)
  end
end
for _, raw in ipairs(redis.call('LRANGE', P .. 'rules', 0, -1)) do
  if cjson.decode(raw).key == key then redis.call('LREM', P .. 'rules', 0, raw) end
end
local kept = {}
for _, raw in ipairs(redis.call('LRANGE', P .. 'journal', 0, -1)) do
  local document = string.match(raw, '^%S+ (.*)$')
  if cjson.decode(document).key ~= key then table.insert(kept, raw) end
end
redis.call('DEL', P .. 'journal')
for i = 1, #kept, 1000 do
  redis.call('RPUSH', P .. 'journal', unpack(kept, i, math.min(i + 999, #kept)))
end
for _, account in ipairs(redis.call('HKEYS', P .. 'spent')) do
  if string.sub(account, 1, #key + 1) == key .. '|' then redis.call('HDEL', P .. 'spent', account) end
end
redis.call('HDEL', P .. 'windows', key)
return #ids
"""

# ARGV[2]: the journal's cap; then entries, each numbered here: the batch's numbers taken at
# once, its entries pushed 1,000 at a time (Lua's stack bounds `unpack`).
RECORD = """
local P = ARGV[1]
local first = redis.call('INCRBY', P .. 'journal:seq', #ARGV - 2) - (#ARGV - 2)
local entries = {}
for i = 3, #ARGV do entries[i - 2] = (first + i - 2) .. ' ' .. ARGV[i] end
for i = 1, #entries, 1000 do
  redis.call('RPUSH', P .. 'journal', unpack(entries, i, math.min(i + 999, #entries)))
end
redis.call('LTRIM', P .. 'journal', -tonumber(ARGV[2]), -1)
"""

# ARGV[2]: this node, ARGV[3]: now, ARGV[4]: how many, ARGV[5]: heartbeat lifetime (ms).
# Claims of nodes whose heartbeat has lapsed go back first; a claim is (when, timer) in the
# claimant's own sorted set until it finishes.
CLAIM_DUE = """
local P, node = ARGV[1], ARGV[2]
redis.call('SET', P .. 'alive:' .. node, '1', 'PX', ARGV[5])
for _, other in ipairs(redis.call('SMEMBERS', P .. 'claimants')) do
  if redis.call('EXISTS', P .. 'alive:' .. other) == 0 then
    local held = redis.call('ZRANGE', P .. 'claims:' .. other, 0, -1, 'WITHSCORES')
    for i = 1, #held, 2 do redis.call('ZADD', P .. 'timers', held[i + 1], held[i]) end
    redis.call('DEL', P .. 'claims:' .. other)
    redis.call('SREM', P .. 'claimants', other)
  end
end
local due = redis.call('ZRANGEBYSCORE', P .. 'timers', '-inf', ARGV[3], 'WITHSCORES', 'LIMIT', 0, ARGV[4])
for i = 1, #due, 2 do
  redis.call('ZREM', P .. 'timers', due[i])
  redis.call('ZADD', P .. 'claims:' .. node, due[i + 1], due[i])
end
if #due > 0 then redis.call('SADD', P .. 'claimants', node) end
return due
"""

# ARGV[2]: this node. Its unfinished claims go back, and it stops counting as alive.
RELEASE = """
local P, node = ARGV[1], ARGV[2]
local held = redis.call('ZRANGE', P .. 'claims:' .. node, 0, -1, 'WITHSCORES')
for i = 1, #held, 2 do redis.call('ZADD', P .. 'timers', held[i + 1], held[i]) end
redis.call('DEL', P .. 'claims:' .. node, P .. 'alive:' .. node)
redis.call('SREM', P .. 'claimants', node)
"""
