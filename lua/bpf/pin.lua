-- Objects pinned in the BPF filesystem, so that they outlive the script
-- that made them and a later one finds them:
--
--   handle:pin(path)               a loaded program (prog:load(...))
--   link:pin(path)                 an attachment (a tcx link, an XDP link,
--                                  a probe's link; a clsact filter or a
--                                  socket has no link to pin)
--   map:pin(path)                  a map (bpf/map.lua)
--   obj, err = bpf.open_pinned(path [, key_ctype, val_ctype])
--     a map (bpf.map, ctypes as bpf.map.open_pinned takes them), a program
--     ({kind = 'program', fd, type, id, name}: :maps([key_ctype, val_ctype])
--     opens the maps it uses, :pin(path), :close()) or a link ({kind = 'link', fd, type, id}:
--     :detach() ends the attachment, pinned or not, and removes the pin
--     it was opened from; :close() only lets go of it)
--
-- What an fd is comes from /proc/self/fdinfo (map_type, prog_type,
-- link_type): the kernel keeps no other way to ask.
local ffi = require('ffi')
local libbpf = require('bpf.libbpf')
local lib = libbpf.lib

local M = {}

ffi.cdef [[
int bpf_pin_close(int fd) __asm__("close");
int bpf_pin_unlink(const char *path) __asm__("unlink");
struct bpf_pin_prog_info {
  uint32_t type, id; uint8_t tag[8]; uint32_t jited_prog_len, xlated_prog_len;
  uint64_t jited_prog_insns, xlated_prog_insns, load_time;
  uint32_t created_by_uid, nr_map_ids; uint64_t map_ids; char name[16];
};
struct bpf_pin_link_info { uint32_t type, id, prog_id; };
]]

-- 'map', 'program' or 'link' for a BPF fd of this process, or nil.
local function kind_of(fd)
  local f = io.open(('/proc/self/fdinfo/%d'):format(fd), 'r')
  if not f then return nil end
  local text = f:read('*a')
  f:close()
  if text:find('\nmap_type:') then return 'map' end
  if text:find('\nprog_type:') then return 'program' end
  if text:find('\nlink_type:') then return 'link' end
  return nil
end
M.kind_of = kind_of

-- Pins fd at path (what: the message's subject); true, or nil and why.
function M.pin_fd(fd, path, what)
  if type(path) ~= 'string' then return nil, what .. ':pin(path): path is a string' end
  local ret = lib.bpf_obj_pin(fd, path)
  if ret ~= 0 then
    local hint = ret == -2 and ' (the directory must be in a BPF filesystem, such as /sys/fs/bpf)' or ''
    return libbpf.error(('%s: pin to %s%s'):format(what, path, hint), ret)
  end
  return true
end

-- What an opened program and an opened link share: close() lets go of the
-- fd (the object stays while its pins or others hold it), pin(path) pins
-- it once more.
local function close(o)
  if o.fd >= 0 then ffi.C.bpf_pin_close(o.fd) end
  o.fd = -1
  return true
end

local function pin(o, path)
  return M.pin_fd(o.fd, path, o.kind == 'program' and ('bpf program "%s"'):format(o.name) or 'bpf link')
end

local program_mt = { __index = { close = close, pin = pin } }

-- The maps the program uses, opened (bpf.map objects: keys and values of
-- the ctypes given, else byte arrays of the kernel's sizes).
function program_mt.__index.maps(p, key_ctype, val_ctype)
  local info = ffi.new('struct bpf_pin_prog_info')
  local len = ffi.new('uint32_t[1]', ffi.sizeof(info))
  if lib.bpf_obj_get_info_by_fd(p.fd, info, len) ~= 0 then return nil, 'bpf program: no info' end
  local n = info.nr_map_ids
  local ids = ffi.new('uint32_t[?]', math.max(n, 1))
  ffi.fill(info, ffi.sizeof(info))
  info.nr_map_ids, info.map_ids = n, ffi.cast('uint64_t', ffi.cast('uintptr_t', ids))
  len[0] = ffi.sizeof(info)
  if lib.bpf_obj_get_info_by_fd(p.fd, info, len) ~= 0 then return nil, 'bpf program: no map ids' end
  local maps = {}
  for i = 0, n - 1 do
    local m, err = require('bpf.map').open_id(ids[i], key_ctype, val_ctype)
    if not m then return nil, err end
    maps[#maps + 1] = m
  end
  return maps
end

program_mt.__tostring = function(p)
  return ('bpf program "%s" (%s, pinned) fd %d'):format(p.name, p.type, p.fd)
end

-- The kernel's info of fd (ctype: its struct), or nil and why (fd closed).
local function info_of(fd, ctype, path, what)
  local info = ffi.new(ctype)
  local len = ffi.new('uint32_t[1]', ffi.sizeof(info))
  local ret = lib.bpf_obj_get_info_by_fd(fd, info, len)
  if ret ~= 0 then
    ffi.C.bpf_pin_close(fd)
    return libbpf.error(('bpf.open_pinned "%s": %s info'):format(path, what), ret)
  end
  return info
end

local function program(fd, path)
  local info, err = info_of(fd, 'struct bpf_pin_prog_info', path, 'program')
  if not info then return nil, err end
  local p = { kind = 'program', fd = fd, id = info.id, path = path,
    type = libbpf.prog_type_name[info.type] or info.type,
    name = ffi.string(info.name) }
  return setmetatable(p, program_mt)
end

local link_mt = { __index = { close = close, pin = pin } }

-- Ends the attachment (even where other pins or fds hold the link) and
-- removes the pin it was opened from.
function link_mt.__index.detach(l)
  if l.fd < 0 then return nil, 'bpf link: closed' end
  local ret = lib.bpf_link_detach(l.fd)
  if ret ~= 0 then return libbpf.error('bpf link: detach', ret) end
  if l.path then ffi.C.bpf_pin_unlink(l.path) end
  return l:close()
end

link_mt.__tostring = function(l)
  return ('bpf link %d (pinned, fd %d)'):format(l.id, l.fd)
end

local function link(fd, path)
  local info, err = info_of(fd, 'struct bpf_pin_link_info', path, 'link')
  if not info then return nil, err end
  return setmetatable({ kind = 'link', fd = fd, id = info.id, type = info.type, prog_id = info.prog_id,
    path = path }, link_mt)
end

function M.open_pinned(path, key_ctype, val_ctype)
  if type(path) ~= 'string' then return nil, 'bpf.open_pinned(path): path is a string' end
  local fd = lib.bpf_obj_get(path)
  if fd < 0 then return libbpf.error(('bpf.open_pinned "%s"'):format(path), fd) end
  local kind = kind_of(fd)
  if kind == 'map' then
    ffi.C.bpf_pin_close(fd)
    return require('bpf.map').open_pinned(path, key_ctype, val_ctype)
  elseif kind == 'program' then
    return program(fd, path)
  elseif kind == 'link' then
    return link(fd, path)
  end
  ffi.C.bpf_pin_close(fd)
  return nil, ('bpf.open_pinned "%s": not a map, a program or a link'):format(path)
end

return M
