-- An AF_XDP socket for specs, through the FFI (<linux/if_xdp.h>): a UMEM of
-- a few 4 KiB frames, all of them given to the kernel on the fill ring, and
-- an RX ring, bound in copy mode to one queue of an interface.  Only what a
-- spec needs to see frames arrive: how many the RX ring has received.
--   local xsk = require('spec.support.xsk')
--   local s = xsk.open(ifindex, queue)   -> s.fd (for xskmap[i] = s.fd)
--   s:received()                         frames the kernel put on the RX ring
--   s:close()
local ffi = require('ffi')

ffi.cdef [[
int spec_xsk_socket(int domain, int type, int protocol) __asm__("socket");
int spec_xsk_setsockopt(int fd, int level, int name, const void *val, uint32_t len) __asm__("setsockopt");
int spec_xsk_getsockopt(int fd, int level, int name, void *val, uint32_t *len) __asm__("getsockopt");
int spec_xsk_bind(int fd, const void *addr, uint32_t len) __asm__("bind");
void *spec_xsk_mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off) __asm__("mmap");
int spec_xsk_munmap(void *addr, size_t len) __asm__("munmap");
int spec_xsk_close(int fd) __asm__("close");
struct spec_xsk_umem_reg { uint64_t addr, len; uint32_t chunk_size, headroom, flags, pad; };
struct spec_xsk_ring_offset { uint64_t producer, consumer, desc, flags; };
struct spec_xsk_offsets { struct spec_xsk_ring_offset rx, tx, fr, cr; };
struct spec_xsk_sockaddr { uint16_t family, flags; uint32_t ifindex, queue_id, shared_umem_fd; };
]]
local C = ffi.C

local AF_XDP, SOCK_RAW, SOL_XDP = 44, 3, 283
local XDP_MMAP_OFFSETS, XDP_RX_RING, XDP_UMEM_REG = 1, 2, 4
local XDP_UMEM_FILL_RING, XDP_UMEM_COMPLETION_RING = 5, 6
local XDP_COPY = 2
local PGOFF_RX, PGOFF_FILL = 0, 0x100000000LL
local PROT_RW, MAP_SHARED, MAP_PRIVATE_ANON, MAP_POPULATE = 3, 1, 0x22, 0x8000
local FRAME, NFRAMES = 4096, 16 -- (a ring's size is a power of 2)
local MAP_FAILED = ffi.cast('void *', -1)

local M = {}
M.__index = M

local function check(ok, what)
  if not ok then error(('spec/support/xsk.lua: %s: errno %d'):format(what, ffi.errno()), 3) end
end

local function setopt(fd, name, val, len)
  check(C.spec_xsk_setsockopt(fd, SOL_XDP, name, val, len) == 0, 'setsockopt ' .. name)
end

function M.open(ifindex, queue)
  local s = setmetatable({ maps = {} }, M)
  s.fd = C.spec_xsk_socket(AF_XDP, SOCK_RAW, 0)
  check(s.fd >= 0, 'socket(AF_XDP)')
  s.umem = C.spec_xsk_mmap(nil, FRAME * NFRAMES, PROT_RW, MAP_PRIVATE_ANON, -1, 0)
  check(s.umem ~= MAP_FAILED, 'mmap umem')
  s.maps[#s.maps + 1] = { s.umem, FRAME * NFRAMES }
  local reg = ffi.new('struct spec_xsk_umem_reg', { addr = ffi.cast('uintptr_t', s.umem),
    len = FRAME * NFRAMES, chunk_size = FRAME })
  setopt(s.fd, XDP_UMEM_REG, reg, ffi.sizeof(reg))
  local n = ffi.new('int[1]', NFRAMES)
  for _, name in ipairs({ XDP_UMEM_FILL_RING, XDP_UMEM_COMPLETION_RING, XDP_RX_RING }) do
    setopt(s.fd, name, n, 4)
  end
  local off = ffi.new('struct spec_xsk_offsets')
  local len = ffi.new('uint32_t[1]', ffi.sizeof(off))
  check(C.spec_xsk_getsockopt(s.fd, SOL_XDP, XDP_MMAP_OFFSETS, off, len) == 0, 'XDP_MMAP_OFFSETS')
  local function ring(o, desc_size, pgoff)
    local size = o.desc + NFRAMES * desc_size
    local p = C.spec_xsk_mmap(nil, size, PROT_RW, MAP_SHARED + MAP_POPULATE, s.fd, pgoff)
    check(p ~= MAP_FAILED, 'mmap ring')
    s.maps[#s.maps + 1] = { p, size }
    return ffi.cast('uint8_t *', p)
  end
  -- every frame of the UMEM to the kernel, for what it receives
  local fill = ring(off.fr, 8, PGOFF_FILL)
  local addrs = ffi.cast('uint64_t *', fill + off.fr.desc)
  for i = 0, NFRAMES - 1 do addrs[i] = i * FRAME end
  ffi.cast('uint32_t *', fill + off.fr.producer)[0] = NFRAMES
  local rx = ring(off.rx, 16, PGOFF_RX) -- (struct xdp_desc: addr, len, options)
  s.rx_producer = ffi.cast('volatile uint32_t *', rx + off.rx.producer)
  local sa = ffi.new('struct spec_xsk_sockaddr', { family = AF_XDP, flags = XDP_COPY, ifindex = ifindex,
    queue_id = queue or 0 })
  check(C.spec_xsk_bind(s.fd, sa, ffi.sizeof(sa)) == 0, 'bind')
  return s
end

function M:received() return self.rx_producer[0] end

function M:close()
  for _, m in ipairs(self.maps) do C.spec_xsk_munmap(m[1], m[2]) end
  self.maps = {}
  if self.fd >= 0 then C.spec_xsk_close(self.fd) end
  self.fd = -1
end

return M
