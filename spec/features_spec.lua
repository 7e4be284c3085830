-- The kernel features bpf.feature() probes, against the kernel: on the two
-- kernels this project runs on (this host's 6.18 and the 6.1 guest of make
-- test-kernel) each answer must be what is known of that kernel (see
-- ../shared/DESIGN.md), and libbpf's own probes must agree where it has one.
local ffi = require('ffi')
local bpf = require('bpf')
local libbpf = require('bpf.libbpf')
local features = require('bpf.features')

ffi.cdef [[
int bpf_features_spec_probe_map(int map_type, const void *opts) __asm__("libbpf_probe_bpf_map_type");
int bpf_features_spec_probe_helper(int prog_type, int helper, const void *opts)
  __asm__("libbpf_probe_bpf_helper");
]]

local function lib_yes(r) return r == 1 end

local function release()
  local f = assert(io.open('/proc/sys/kernel/osrelease'))
  local text = f:read('*l')
  f:close()
  return text:match('^(%d+%.%d+)')
end

-- What each kernel has, as found on these machines.
local known = {
  ['6.18'] = { bounded_loops = true, may_goto = true, cpu_v4 = true, load_acquire = true, ringbuf = true,
    probe_read_user_str = true, tcx = true, trampolines = false, bpf_loop = true },
  ['6.1'] = { bounded_loops = true, may_goto = false, cpu_v4 = false, load_acquire = false, ringbuf = true,
    probe_read_user_str = true, tcx = false, trampolines = true, bpf_loop = false },
}

describe('bpf.feature against the kernel', function()
  it('answers each feature as known of this kernel, with a reason for what it lacks', function()
    local want = known[release()]
    assert.is_table(want, 'no known answers for kernel ' .. release())
    local names = {}
    for _, name in ipairs(features.names) do
      names[name] = true
      local has, why = bpf.feature(name)
      assert.equals(want[name], has, name .. ': ' .. tostring(why))
      if not has then assert.is_string(why, name) end
      assert.equals(has, (bpf.feature(name))) -- asked once, kept
    end
    for name in pairs(want) do assert.is_true(names[name], name .. ' is not probed') end
  end)

  it('agrees with libbpf where libbpf probes the same', function()
    local lib = libbpf.lib
    assert.equals(lib_yes(lib.bpf_features_spec_probe_map(libbpf.map_type.ringbuf, nil)),
      (bpf.feature('ringbuf')))
    assert.equals(lib_yes(lib.bpf_features_spec_probe_helper(libbpf.prog_type.kprobe, 114, nil)),
      (bpf.feature('probe_read_user_str')))
  end)

  it('says which names there are', function()
    local ok, err = pcall(bpf.feature, 'warp_drive')
    assert.is_false(ok)
    assert.matches('bpf.feature: no feature warp_drive %(bounded_loops, may_goto', err)
  end)
end)
