-- make bench: instruction counts and compile times (median of many runs,
-- in this process) against what the 2016 compiler made and took.
local bpf = require('bpf')

local map = assert(bpf.map('array', 256))
local programs = {
  { name = 'socket protocol counter', old_insns = 15, old_us = 43, target_us = 20, fn = function()
    local proto = pkt.ip.proto
    xadd(map[proto], 1)
  end },
  { name = 'DNS parser', old_insns = 52, old_us = 116, target_us = 60, fn = function()
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
  end },
  { name = 'HTTP request counter', fn = function(skb)
    if skb.ingress_ifindex == 0 then return end
    local data = pkt.ip.tcp.data
    if data + 7 > skb.len then return end
    local h = data(0, 4)
    if h == 'HTTP' or h == 'GET ' or h == 'POST' or h == 'PUT ' or h == 'HEAD' or h == 'DELE' then
      local v = map[h % 256]
      if not v then map[h % 256] = 1 else xadd(map[h % 256], 1) end
    end
  end },
  { name = 'latency histogram (kprobe)', ctx = true, fn = function(regs)
    local t = map[regs.parm1]
    if t then xadd(map[math.log2(time() - t[0])], 1) end
  end },
}

local function median_us(fn, opts, runs)
  local times = {}
  for i = 1, runs do
    local t0 = os.clock()
    for _ = 1, 10 do assert(bpf(fn, opts)) end
    times[i] = (os.clock() - t0) / 10 * 1e6
  end
  table.sort(times)
  return times[math.floor(runs / 2) + 1]
end

print(('%-26s %8s %8s %7s %10s %10s %7s'):format('program', 'insns', '2016', 'ratio',
  'compile us', '2016 us', 'ratio'))
for _, p in ipairs(programs) do
  local opts = p.ctx and { ctx = bpf.proto.pt_regs } or nil
  local prog = assert(bpf(p.fn, opts))
  assert(prog:load(p.ctx and 'kprobe' or 'socket_filter')):close()
  for _ = 1, 200 do bpf(p.fn, opts) end -- warm up
  local us = median_us(p.fn, opts, 101)
  if p.old_insns then
    print(('%-26s %8d %8d %7.2f %10.1f %10d %7.2f%s'):format(p.name, prog.pc, p.old_insns,
      prog.pc / p.old_insns, us, p.old_us, us / p.old_us,
      us <= p.target_us and '' or ('  (target %d us)'):format(p.target_us)))
  else
    print(('%-26s %8d %8s %7s %10.1f %10s %7s'):format(p.name, prog.pc, '-', '-', us, '-', '-'))
  end
end
