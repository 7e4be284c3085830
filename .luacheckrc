std = 'luajit'
max_line_length = 110
-- the fuzzer's findings are data: programs as the fuzzer wrote them
exclude_files = { 'spec/data/fuzz/*.lua' }
-- Compiled BPF programs name helpers and dissectors as globals that the
-- compiler resolves at compile time, not at run time.
-- (the packet's fields may be assigned: packet writes)
local writable = { read_only = false, other_fields = true }
local program_globals = { pkt = writable, eth = writable, 'xadd', 'time', 'cpu', 'pid_tgid', 'uid_gid', 'comm',
  'perf_submit', 'stack_id', 'load_bytes', 'ntoh', 'hton', 'c', 'skb', 'random',
  'ringbuf_output', 'ringbuf_reserve', 'ringbuf_submit', 'ringbuf_discard', 'redirect', 'clone_redirect',
  'tail_call', 'redirect_map', 'adjust_head', 'adjust_tail', 'skb_adjust_room',
  'atomic_add', 'atomic_and', 'atomic_or', 'atomic_xor', 'atomic_fetch_add', 'atomic_fetch_and',
  'atomic_fetch_or', 'atomic_fetch_xor', 'xchg', 'cmpxchg',
  'current_task', 'kfunc',
  math = { fields = { 'log2' } } }
files['spec'] = { std = '+busted', read_globals = program_globals }
files['examples'] = { read_globals = program_globals }
files['bench'] = { read_globals = program_globals }
files['tools/btf-core-object.lua'] = { read_globals = program_globals }
