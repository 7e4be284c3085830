-- 27. A 12-byte event per frame long enough for IPv4 (skb->len, skb->mark,
-- the ethertype, IP protocol and TTL) sent with ringbuf_output; returns its result.
local ffi = require('ffi')
local event_t = ffi.typeof('struct { uint32_t len, mark; uint16_t etype; uint8_t proto, ttl; }')

return { maps = { { name = 'events', type = 'ringbuf', entries = 4 * 1024 * 1024 } }, build = function(events)
  return function(skb)
    local e = ffi.new(event_t)
    e.len, e.mark = skb.len, skb.mark
    e.etype = pkt.type
    local ip = pkt.ip
    e.proto, e.ttl = ip.proto, ip.ttl
    return ringbuf_output(events, e)
  end
end }
