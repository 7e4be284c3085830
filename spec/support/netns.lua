-- A network of the suite's own.  The specs and the examples they run attach
-- to `lo` (socket filters that count exactly the packets they send, XDP,
-- a tc clsact qdisc), so a second copy of the suite, or anything else on
-- the machine using the host's loopback, would add packets or hold the XDP
-- hook.  enter() moves this process into a new network namespace with its
-- own `lo` (brought up: 127.0.0.1 works as before); child processes
-- started after it inherit it.  Loaded as busted's helper (.busted), so it
-- runs once, before any spec.
--
-- Only root may make one.  As another user (make check, which runs none
-- of the kernel specs) the process stays where it is.
local ffi = require('ffi')
local bit = require('bit')

local M = {}

ffi.cdef [[
int spec_netns_unshare(int flags) __asm__("unshare");
int spec_netns_socket(int domain, int type, int protocol) __asm__("socket");
int spec_netns_ioctl(int fd, unsigned long request, void *arg) __asm__("ioctl");
int spec_netns_close(int fd) __asm__("close");
unsigned int spec_netns_geteuid(void) __asm__("geteuid");
char *spec_netns_strerror(int errnum) __asm__("strerror");
struct spec_netns_ifreq { char name[16]; short flags; char pad[22]; };
]]
local C = ffi.C

local CLONE_NEWNET = 0x40000000
local AF_INET, SOCK_DGRAM = 2, 2
local SIOCGIFFLAGS, SIOCSIFFLAGS = 0x8913, 0x8914
local IFF_UP = 1

local function fail(what)
  local e = ffi.errno()
  error(('spec/support/netns.lua: %s: %s (errno %d)'):format(what, ffi.string(C.spec_netns_strerror(e)), e))
end

local entered = false

-- Moves the process into a network namespace of its own with `lo` up; true
-- when it did (now or before), false when not root.
function M.enter()
  if entered then return true end
  if C.spec_netns_geteuid() ~= 0 then return false end
  if C.spec_netns_unshare(CLONE_NEWNET) ~= 0 then
    fail('unshare(CLONE_NEWNET), a network namespace for the specs')
  end
  local fd = C.spec_netns_socket(AF_INET, SOCK_DGRAM, 0)
  if fd < 0 then fail('socket') end
  local req = ffi.new('struct spec_netns_ifreq')
  ffi.copy(req.name, 'lo')
  if C.spec_netns_ioctl(fd, SIOCGIFFLAGS, req) ~= 0 then C.spec_netns_close(fd) fail('SIOCGIFFLAGS lo') end
  req.flags = bit.bor(req.flags, IFF_UP)
  if C.spec_netns_ioctl(fd, SIOCSIFFLAGS, req) ~= 0 then C.spec_netns_close(fd) fail('bringing lo up') end
  C.spec_netns_close(fd)
  entered = true
  return true
end

return M
