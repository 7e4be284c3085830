-- A veth pair in the run's own network namespace (spec/support/netns.lua),
-- both ends up: made with `ip` (iproute2 on the host; busybox's in the 6.1
-- guest, which names the peer veth0 whatever it is told, so it is renamed).
--   local veth = require('spec.support.veth')
--   local a, b = veth.pair('va', 'vb')   -> the two ifindexes
--   veth.delete('va')                    (the peer goes with it)
local ffi = require('ffi')

ffi.cdef [[
unsigned int spec_veth_if_nametoindex(const char *name) __asm__("if_nametoindex");
]]

local M = {}

local function sh(cmd)
  local r = os.execute(cmd .. ' >/dev/null 2>&1')
  return r == 0 or r == true
end

function M.index(name) return ffi.C.spec_veth_if_nametoindex(name) end

function M.pair(a, b)
  M.delete(a)
  assert(sh(('ip link add %s type veth peer name %s'):format(a, b)), 'ip link add ' .. a .. ' (veth) failed')
  if M.index(b) == 0 and M.index('veth0') ~= 0 then assert(sh('ip link set veth0 name ' .. b)) end
  assert(sh(('ip link set %s up && ip link set %s up'):format(a, b)))
  local ia, ib = M.index(a), M.index(b)
  assert(ia ~= 0 and ib ~= 0, 'no veth pair ' .. a .. ', ' .. b)
  return ia, ib
end

function M.delete(a) sh('ip link del ' .. a) end

return M
