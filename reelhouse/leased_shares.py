"""Users' fair shares of a :class:`~reelhouse.leased_slots.LeasedSlots` key, counted
over every process of a cluster (issue 14, "nobody starves anybody": "one user cannot
hold all N connections of a source while others wait; a second pool connection for a
user is granted only when no other user waits").

A process's pool decides alone which of *its* callers gets a connection; before the
caller uses it, :meth:`LeasedSlots.take_share` asks Redis, in one script (atomic: two
processes never both pass on the same state):

- the user's **grants**: the sorted set ``reelhouse:shares:<key>`` of
  ``<token>|<user>`` by lease end (Redis server time, seconds), one per connection a
  user holds anywhere; at most ``user_limit`` per user (0: no cap);
- the **waiting callers**: the sorted set ``reelhouse:waiting:<key>`` of waiter ids
  (``<process id>.<n>``) by lease end, and the hash ``reelhouse:waitinfo:<key>`` of
  id → ``<since>|<user_limit>|<user>`` (``since``: Redis time when it began to wait,
  computed as *now − seconds waited* from the caller's monotonic clock, so the
  nodes' clocks never matter);
- with ``limit`` > 0 (a brand-new connection), one of the ``limit`` slots of the key
  (``reelhouse:slots:<key>``, as :meth:`LeasedSlots.take`).

The grant is refused (``limit``) when the user holds ``user_limit`` already, and
(``waits``) when another user waits, registered or among the process's own waiters
not registered yet (passed in; a registered one is weighed only as registered, with
its ``since``: weighed also with a wait measured anew, two waiters could each find the
other first), who is under its own cap and holds fewer grants, or as many and began to
wait earlier: the rule of :mod:`reelhouse.sources.ftp.granting` (fewest held first,
then the longest waiting), over the cluster. ``waits-elsewhere``: the first in that
order is a waiter of another process (the asking process should give its idle
connection up for it). ``full``: no slot free. A refused waiter is registered (or its
registration kept, its ``since`` unchanged); a granted one leaves the set.

Grants and registrations are leases renewed by their process (:class:`LeasedSlots`'s
thread, every ``ttl / 3`` s): a process killed with SIGKILL stops counting, and stops
being waited for, within ``ttl`` seconds. A grant given back, or a registered waiter
leaving, publishes ``shares`` on ``reelhouse:slotnews:<key>``: refused callers try
again at once.

The requests each user has **queued** for the key (issue 14: "pool waiters are
bounded per user"): the sorted set ``reelhouse:queued:<key>|<user>`` of tokens by
lease end, one per request of that user waiting for a connection in any process
(:meth:`LeasedSlots.enqueue`, the script of :meth:`LeasedSlots.take` with the bound
``ftp_user_waiters`` as its limit), leased and renewed like the grants.
"""

from __future__ import annotations

__all__ = ["GRANTS", "QUEUED", "TAKE_SHARE", "UNWAIT", "WAITING", "WAIT_INFO"]

GRANTS = "reelhouse:shares:"
WAITING = "reelhouse:waiting:"
WAIT_INFO = "reelhouse:waitinfo:"
QUEUED = "reelhouse:queued:"

#: KEYS: slots, wanted, grants, waiting, waitinfo. ARGV: 1 slot limit (0: take no slot),
#: 2 ttl, 3 slot token, 4 want ms, 5 user, 6 user limit (0: none), 7 grant token (16 hex),
#: 8 waiter id ('': do not register), 9 seconds waited, 10 this process's id prefix,
#: 11 news channel, 12 r: how many grant members follow, to give back first (released
#: by this process, not yet given back), then triples (user, user limit, seconds
#: waited) of the process's other waiters. Returns {status, 0}: ok | full | limit |
#: waits | waits-elsewhere.
TAKE_SHARE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local ttl = tonumber(ARGV[2])
local life = math.ceil(ttl) + 1
local gone = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now)
if #gone > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
  redis.call('HDEL', KEYS[5], unpack(gone))
end
local returned = tonumber(ARGV[12])
if returned > 0 and redis.call('ZREM', KEYS[3], unpack(ARGV, 13, 12 + returned)) > 0 then
  redis.call('PUBLISH', ARGV[11], 'shares')
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local held = {}
for _, m in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
  local u = string.sub(m, 18)
  held[u] = (held[u] or 0) + 1
end
local user, limit, wid, me = ARGV[5], tonumber(ARGV[6]), ARGV[8], ARGV[10]
local mine = held[user] or 0
local since = now - tonumber(ARGV[9])
if wid ~= '' then
  local info = redis.call('HGET', KEYS[5], wid)
  if info then since = tonumber(string.match(info, '^([^|]*)')) end
end
local function refuse(why)
  if wid ~= '' then
    redis.call('ZADD', KEYS[4], now + ttl, wid)
    redis.call('HSET', KEYS[5], wid, string.format('%.6f', since) .. '|' .. ARGV[6] .. '|' .. user)
    redis.call('EXPIRE', KEYS[4], life)
    redis.call('EXPIRE', KEYS[5], life)
  end
  return {why, 0}
end
if limit > 0 and mine >= limit then return refuse('limit') end
local best_h, best_s, best_remote, found = mine, since, false, false
local function consider(u, l, h, s, remote)
  if u ~= user and (l == 0 or h < l) and (h < best_h or (h == best_h and s < best_s)) then
    best_h, best_s, best_remote, found = h, s, remote, true
  end
end
for _, w in ipairs(redis.call('ZRANGE', KEYS[4], 0, -1)) do
  if w ~= wid then
    local info = redis.call('HGET', KEYS[5], w)
    if info then
      local s, l, u = string.match(info, '^([^|]*)|([^|]*)|(.*)$')
      consider(u, tonumber(l), held[u] or 0, tonumber(s), string.sub(w, 1, #me) ~= me)
    end
  end
end
for i = 13 + returned, #ARGV - 2, 3 do
  local u = ARGV[i]
  consider(u, tonumber(ARGV[i + 1]), held[u] or 0, now - tonumber(ARGV[i + 2]), false)
end
if found then
  if best_remote then return refuse('waits-elsewhere') end
  return refuse('waits')
end
local slots = tonumber(ARGV[1])
if slots > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  if redis.call('ZCARD', KEYS[1]) >= slots then
    if tonumber(ARGV[4]) > 0 then redis.call('SET', KEYS[2], '1', 'PX', ARGV[4]) end
    return refuse('full')
  end
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[3])
  redis.call('EXPIRE', KEYS[1], life)
end
redis.call('ZADD', KEYS[3], now + ttl, ARGV[7] .. '|' .. user)
redis.call('EXPIRE', KEYS[3], life)
if wid ~= '' then
  redis.call('HDEL', KEYS[5], wid)
  if redis.call('ZREM', KEYS[4], wid) == 1 then redis.call('PUBLISH', ARGV[11], 'shares') end
end
return {'ok', 0}
"""

#: KEYS: waiting, waitinfo. ARGV: waiter id, news channel.
UNWAIT = """
redis.call('HDEL', KEYS[2], ARGV[1])
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then redis.call('PUBLISH', ARGV[2], 'shares') end
return 1
"""
