std = 'luajit'
max_line_length = 110
files['spec'] = { std = '+busted' }
-- Compiled BPF programs name helpers and dissectors as globals that the
-- compiler resolves at compile time, not at run time.
files['examples'] = { globals = {}, allow_defined_top = true,
  read_globals = { 'pkt', 'eth', 'xadd', 'time', 'cpu', 'pid_tgid', 'uid_gid', 'comm',
    'perf_submit', 'stack_id', 'load_bytes', 'ntoh', 'hton', 'c', 'skb', 'ip', 'ip6',
    'tcp', 'udp', 'icmp' } }
