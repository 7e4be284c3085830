-- Kernel-side test programs that more than one spec compiles: the 2016
-- module's protocol counter and DNS parser.  Each takes the map it counts
-- into and returns the Lua function, for the spec to compile (bpf(fn)) and
-- load as it needs.
local M = {}

-- Where these functions come from, as the compiler records it in line info.
M.file = debug.getinfo(1, 'S').source:gsub('^[@=]', '')

-- One counter per IP protocol number.
function M.counter(map)
  return function()
    local proto = pkt.ip.proto
    xadd(map[proto], 1)
  end
end

-- DNS queries counted by the low byte of QTYPE, after a query name of at
-- most two labels.
function M.dns_parser(map)
  return function()
    local ip = pkt.ip
    if ip.proto ~= c.ip.proto_udp then return false end
    local udp = ip.udp
    if udp.length < 12 then return false end
    udp = udp.data + 12
    local label = udp[0]
    if label > 0 then
      udp = udp + label + 1
      label = udp[0]
      if label > 0 then udp = udp + label + 1 end
    end
    if udp[1] == 0 then
      local qtype = udp[2]
      xadd(map[qtype], 1)
    end
  end
end

return M
