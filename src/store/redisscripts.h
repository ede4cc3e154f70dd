#pragma once

// The Lua scripts of RedisStore. Redis runs a script atomically, so each is one transaction;
// a script checks everything first and writes after, since Redis does not roll back a script
// that fails half-way. States "queued" and "streaming" are a turn not ended (types.cpp).
namespace holdfast::redisscripts {

// KEYS: sess, hf:sessions. ARGV: score, sid, field/value pairs...
inline constexpr const char *kCreateSession = R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.error_reply('CONFLICT the session exists')
end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
return 1
)lua";

// KEYS: sess, hf:sessions. ARGV: score, sid, n, n fields to delete, field/value pairs...
inline constexpr const char *kSaveMeta = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then
  return redis.error_reply('NOTFOUND no such key')
end
local n = tonumber(ARGV[3])
if n > 0 then
  redis.call('HDEL', KEYS[1], unpack(ARGV, 4, 3 + n))
end
redis.call('HSET', KEYS[1], unpack(ARGV, 4 + n))
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
return 1
)lua";

// Claims the session for a new turn: no other turn active, and nothing appended since the
// caller read the session. KEYS: sess, msg:N, turn:T, lease:T, hf:sessions, hf:unfinished.
// ARGV: score, sid, N, T, message, lease ms, owner, total, active, last, updated, turn pairs...
inline constexpr const char *kBeginTurn = R"lua(
local s = redis.call('HMGET', KEYS[1], 'total', 'active', 'last')
if not s[1] then
  return redis.error_reply('NOTFOUND no such key')
end
if tonumber(s[2]) ~= 0 then
  return redis.error_reply('CONFLICT turn ' .. s[2] .. ' is active')
end
if tonumber(s[1]) ~= tonumber(ARGV[3]) or tonumber(s[3]) ~= tonumber(ARGV[4]) - 1 then
  return redis.error_reply('CONFLICT the session changed meanwhile')
end
redis.call('HSET', KEYS[1], 'total', ARGV[8], 'active', ARGV[9], 'last', ARGV[10],
           'updated', ARGV[11])
redis.call('SET', KEYS[2], ARGV[5])
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[3], unpack(ARGV, 12))
redis.call('SET', KEYS[4], ARGV[7], 'PX', ARGV[6])
redis.call('ZADD', KEYS[5], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[6], ARGV[2] .. '/' .. ARGV[4])
return 1
)lua";

// KEYS: turn, chunks, lease, cancel. ARGV: first seq, lease ms, owner, "SID/T", channel, texts...
// Returns 1 when someone asked to cancel the turn.
inline constexpr const char *kAppendChunks = R"lua(
local t = redis.call('HMGET', KEYS[1], 'state', 'chunks')
if not t[1] then
  return redis.error_reply('NOTFOUND no such key')
end
if t[1] ~= 'queued' and t[1] ~= 'streaming' then
  return redis.error_reply('CONFLICT the turn has ended')
end
local first = tonumber(ARGV[1])
if tonumber(t[2]) ~= first then
  return redis.error_reply('CONFLICT the next chunk is ' .. t[2])
end
for i = 6, #ARGV do
  redis.call('XADD', KEYS[2], (first + i - 6) .. '-1', 't', ARGV[i])
end
redis.call('HSET', KEYS[1], 'chunks', first + #ARGV - 5)
redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[2])
redis.call('PUBLISH', ARGV[5], ARGV[4])
return redis.call('EXISTS', KEYS[4])
)lua";

// Ends a turn exactly once: a turn already ended (a retried save, or a sweeper that was first)
// or a deleted session is left alone and answers 0.
// KEYS: sess, msg:N, turn, lease, hf:sessions, hf:unfinished.
// ARGV: score, sid, N (-1: no answer), T, message, total, active, updated, channel,
// turn pairs...
inline constexpr const char *kFinishTurn = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local state = redis.call('HGET', KEYS[3], 'state')
if state and state ~= 'queued' and state ~= 'streaming' then
  return 0
end
local s = redis.call('HMGET', KEYS[1], 'total', 'active')
local meta = {'total', ARGV[6], 'updated', ARGV[8]}
if ARGV[3] ~= '-1' then
  if tonumber(s[1]) ~= tonumber(ARGV[3]) then
    return redis.error_reply('CONFLICT the answer would be message ' .. ARGV[3] ..
                             ' but the session has ' .. s[1])
  end
  redis.call('SET', KEYS[2], ARGV[5])
else
  meta[2] = s[1]
end
if tonumber(s[2]) == tonumber(ARGV[4]) then
  meta[#meta + 1] = 'active'
  meta[#meta + 1] = ARGV[7]
end
redis.call('HSET', KEYS[1], unpack(meta))
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[3], unpack(ARGV, 10))
redis.call('DEL', KEYS[4])
redis.call('ZADD', KEYS[5], ARGV[1], ARGV[2])
redis.call('SREM', KEYS[6], ARGV[2] .. '/' .. ARGV[4])
redis.call('PUBLISH', ARGV[9], ARGV[2] .. '/' .. ARGV[4])
return 1
)lua";

// KEYS: sess, hf:sessions, hf:unfinished. ARGV: sid, key prefix "hf:{SID}:".
inline constexpr const char *kDeleteSession = R"lua(
local s = redis.call('HMGET', KEYS[1], 'total', 'last')
local total = tonumber(s[1]) or 0
local last = tonumber(s[2]) or 0
local batch = {}
local function flush()
  if #batch > 0 then
    redis.call('UNLINK', unpack(batch))
    batch = {}
  end
end
for i = 0, total - 1 do
  batch[#batch + 1] = ARGV[2] .. 'msg:' .. i
  if #batch >= 1000 then flush() end
end
for t = 1, last do
  for _, k in ipairs({'turn:', 'chunks:', 'lease:', 'cancel:'}) do
    batch[#batch + 1] = ARGV[2] .. k .. t
  end
  redis.call('SREM', KEYS[3], ARGV[1] .. '/' .. t)
  if #batch >= 1000 then flush() end
end
flush()
redis.call('UNLINK', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
)lua";

// Turns not ended whose lease has expired, as HGETALL arrays; forgets ended ones.
// KEYS: hf:unfinished.
inline constexpr const char *kOrphanedTurns = R"lua(
local out = {}
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local sid, tid = string.match(m, '^(.*)/(%d+)$')
  local state = false
  if sid then
    state = redis.call('HGET', 'hf:{' .. sid .. '}:turn:' .. tid, 'state')
  end
  if not state or (state ~= 'queued' and state ~= 'streaming') then
    redis.call('SREM', KEYS[1], m)
  elseif redis.call('EXISTS', 'hf:{' .. sid .. '}:lease:' .. tid) == 0 then
    out[#out + 1] = redis.call('HGETALL', 'hf:{' .. sid .. '}:turn:' .. tid)
  end
end
return out
)lua";

// KEYS: turn, lease, cancel. ARGV: owner, lease ms. -1: the turn ended; 1: cancel requested.
inline constexpr const char *kRenewLease = R"lua(
local state = redis.call('HGET', KEYS[1], 'state')
if not state or (state ~= 'queued' and state ~= 'streaming') then
  return -1
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return redis.call('EXISTS', KEYS[3])
)lua";

// KEYS: turn, cancel. ARGV: "SID/T", ttl ms, channel. 0: the turn has already ended.
inline constexpr const char *kRequestCancel = R"lua(
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  return redis.error_reply('NOTFOUND no such key')
end
if state ~= 'queued' and state ~= 'streaming' then
  return 0
end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[1])
return 1
)lua";

// ARGV: session ids. Their metadata hashes, in order (empty for a missing one).
inline constexpr const char *kSessionsAt = R"lua(
local out = {}
for i, id in ipairs(ARGV) do
  out[i] = redis.call('HGETALL', 'hf:{' .. id .. '}:sess')
end
return out
)lua";

} // namespace holdfast::redisscripts
