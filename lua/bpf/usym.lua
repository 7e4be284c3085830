-- User symbols: the function an address in a process belongs to, from the
-- process's mappings (/proc/pid/maps: which file, at which offset) and that
-- file's ELF symbol tables (bpf.elf.symbols), for the user frames of a stack
-- that stack_id(map, 'user') stored.
--
--   local usym = require('bpf.usym')
--   name, off, module, path = usym.lookup(pid, addr)   nil when no mapping holds addr;
--                                       name nil when the file has no symbol for it
--   usym.resolve(pid, frames)           names the user frames of ksym.frames' list
--                                       (map:stack(id, pid) calls it)
--   usym.forget([pid])                  drop what is known of pid (of every process)
--
-- A frame's module is the file's base name ("libc.so.6", "[vdso]"); its
-- path the file.  Files are read through /proc/pid/root (the process's own
-- view of the file system) and their symbols kept per file (device and
-- inode), so that every process running a binary shares one table.  A
-- process's mappings are read once and again when an address misses them
-- (code mapped later: dlopen), at most once a second; a process that has
-- exited names nothing, its frames stay addresses.  Symbols need
-- .symtab or .dynsym; a stripped static function shows as the nearest
-- exported one before it, or as an address when a sized symbol ends first.
local ffi = require('ffi')
local elf = require('bpf.elf')

local M = {}

M.user_limit = 0x800000000000 -- user addresses (x86_64 and arm64, 47/48-bit) are below

local by_pid = {}  -- pid -> { at = os.time(), maps = { {start, stop, offset, path, key}, ... } }
local by_file = {} -- dev:inode (or path) -> symbols, or false when they cannot be read

local function read_maps(pid)
  local f = io.open(('/proc/%d/maps'):format(pid), 'r')
  if not f then return {} end
  local maps = {}
  for line in f:lines() do
    -- start-end perms offset dev inode   path
    local s, e, perms, off, dev, inode, path = line:match(
      '^(%x+)%-(%x+) (%S+) (%x+) (%S+) (%d+)%s*(.*)$')
    if s and perms:sub(3, 3) == 'x' then
      maps[#maps + 1] = { start = tonumber(s, 16), stop = tonumber(e, 16), offset = tonumber(off, 16),
        path = path ~= '' and path or nil, key = inode ~= '0' and (dev .. ':' .. inode) or nil }
    end
  end
  f:close()
  return maps
end

local function mapping(pid, addr, fresh)
  local known = by_pid[pid]
  if not known or (fresh and os.time() > known.at) then
    known = { at = os.time(), maps = read_maps(pid) }
    by_pid[pid] = known
  end
  for _, m in ipairs(known.maps) do
    if addr >= m.start and addr < m.stop then return m end
  end
  if not fresh then return mapping(pid, addr, true) end
  return nil
end

local function file_symbols(pid, m)
  local key = m.key or m.path
  local syms = by_file[key]
  if syms == nil then
    syms = false
    -- (a deleted file is gone from the file system: map_files still has it)
    local path = m.path:gsub(' %(deleted%)$', '')
    for _, candidate in ipairs({ ('/proc/%d/root%s'):format(pid, path), path,
        ('/proc/%d/map_files/%x-%x'):format(pid, m.start, m.stop) }) do
      local got = elf.symbols(candidate)
      if got then
        syms = got
        break
      end
    end
    by_file[key] = syms
  end
  return syms or nil
end

local function basename(path)
  if not path then return nil end
  if path:sub(1, 1) == '[' then return path end -- [vdso], [heap], [stack]
  return (path:gsub(' %(deleted%)$', ''):match('[^/]+$'))
end

-- name, offset into the function, module, path for addr (a number or
-- 64-bit cdata) in process pid.  ret: addr is a return address (every frame
-- but the innermost), looked up one byte back, inside the call.
local function lookup(pid, addr, ret)
  addr = tonumber(addr)
  if not addr or addr >= M.user_limit then return nil end
  local m = mapping(pid, addr)
  if not m then return nil end
  local module = basename(m.path)
  if not m.path or m.path:sub(1, 1) == '[' then return nil, nil, module, m.path end
  local syms = file_symbols(pid, m)
  if not syms then return nil, nil, module, m.path end
  local file_off = addr - m.start + m.offset
  local name, off = syms:lookup(ret and file_off - 1 or file_off)
  if name and ret then off = off + 1 end
  return name, off, module, m.path
end

function M.lookup(pid, addr) return lookup(pid, addr, false) end

-- Names the user frames (addresses below user_limit) of frames, a list
-- from bpf.ksym.frames, innermost first: sym, off, module, path, user = true.
function M.resolve(pid, frames)
  pid = tonumber(pid)
  for i, frame in ipairs(frames) do
    local addr = tonumber(ffi.cast('uint64_t', frame.addr))
    if addr < M.user_limit then
      frame.user = true
      if pid then
        frame.sym, frame.off, frame.module, frame.path = lookup(pid, addr, i > 1)
      end
    end
  end
  return frames
end

function M.forget(pid)
  if pid then
    by_pid[tonumber(pid)] = nil
  else
    by_pid, by_file = {}, {}
  end
end

return M
