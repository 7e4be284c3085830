-- Packet dissectors and program contexts: C layouts of the headers, how one
-- layer leads to the next (read by the compiler core), and named constants.
-- Fields read from packets are numbers in host byte order.
local ffi = require('ffi')

ffi.cdef [[
struct __sk_buff {
  uint32_t len, pkt_type, mark, queue_mapping, protocol, vlan_present, vlan_tci, vlan_proto;
  uint32_t priority, ingress_ifindex, ifindex, tc_index, cb[5], hash, tc_classid;
  uint32_t data, data_end, napi_id, family, remote_ip4, local_ip4, remote_ip6[4], local_ip6[4];
  uint32_t remote_port, local_port, data_meta;
};
/* cgroup_sock's context (the kernel's uapi layout) */
struct bpf_sock {
  uint32_t bound_dev_if, family, type, protocol, mark, priority;
  uint32_t src_ip4, src_ip6[4], src_port;
  uint16_t dst_port; uint16_t :16;
  uint32_t dst_ip4, dst_ip6[4], state;
  int32_t rx_queue_mapping;
};
/* cgroup_sock_addr's context */
struct bpf_sock_addr {
  uint32_t user_family, user_ip4, user_ip6[4], user_port, family, type, protocol;
  uint32_t msg_src_ip4, msg_src_ip6[4];
  struct bpf_sock *sk;
};
struct eth_t { uint8_t dst[6]; uint8_t src[6]; uint16_t type; } __attribute__((packed));
struct ip_t {
  uint8_t ver:4, hlen:4; uint8_t tos; uint16_t tlen; uint16_t identification;
  uint16_t ffo_unused:1, df:1, mf:1, foffset:13; uint8_t ttl; uint8_t proto; uint16_t hchecksum;
  uint32_t src; uint32_t dst;
} __attribute__((packed));
struct ip6_t {
  uint32_t ver:4, priority:8, flow_label:20; uint16_t payload_len; uint8_t next_header;
  uint8_t hop_limit; uint64_t src_hi, src_lo, dst_hi, dst_lo;
} __attribute__((packed));
struct icmp_t { uint8_t type; uint8_t code; uint16_t checksum; } __attribute__((packed));
struct udp_t { uint16_t src_port, dst_port, length, crc; } __attribute__((packed));
struct tcp_t {
  uint16_t src_port, dst_port; uint32_t seq_num, ack_num;
  uint8_t offset:4, reserved:4;
  uint8_t flag_cwr:1, flag_ece:1, flag_urg:1, flag_ack:1, flag_psh:1, flag_rst:1, flag_syn:1, flag_fin:1;
  uint16_t rcv_wnd, cksum, urg_ptr;
} __attribute__((packed));
struct pt_regs {
  unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di;
  unsigned long orig_ax, ip, cs, flags, sp, ss;
};
]]

local ctype = require('bpf.ctype')
ctype.alias('struct pt_regs', { parm1 = 'di', parm2 = 'si', parm3 = 'dx', parm4 = 'cx',
  parm5 = 'r8', ret = 'ax', fp = 'bp' })

local M = {}

local t = ffi.typeof
local after_ip = { hdr_off = 0, mask = 0x0f, shift = 2 } -- IHL counts 32-bit words

local function via_ihl(layer)
  return { layer = layer, hdr_off = after_ip.hdr_off, mask = after_ip.mask, shift = after_ip.shift }
end

-- layer name -> { ctype, next = { name -> fixed `skip` or a header length to read } }
M.layers = {
  eth = { ctype = t('struct eth_t'), next = {
    ip = { layer = 'ip', skip = 14 }, ip6 = { layer = 'ip6', skip = 14 } } },
  ip = { ctype = t('struct ip_t'), next = {
    udp = via_ihl('udp'), tcp = via_ihl('tcp'), icmp = via_ihl('icmp') } },
  ip6 = { ctype = t('struct ip6_t'), next = {
    udp = { layer = 'udp', skip = 40 }, tcp = { layer = 'tcp', skip = 40 },
    icmp6 = { layer = 'icmp', skip = 40 } } },
  udp = { ctype = t('struct udp_t'), next = { data = { layer = 'udp_data', skip = 8 } } },
  tcp = { ctype = t('struct tcp_t'), next = {
    data = { layer = 'tcp_data', hdr_off = 12, mask = 0xf0, shift = -2 } } },
  icmp = { ctype = t('struct icmp_t'), next = { data = { layer = 'icmp_data', skip = 8 } } },
  -- payloads: bytes, each layer its own so that a write knows whose checksum covers it
  udp_data = { ctype = t('uint8_t'), next = {} },
  tcp_data = { ctype = t('uint8_t'), next = {} },
  icmp_data = { ctype = t('uint8_t'), next = {} },
  data = { ctype = t('uint8_t'), next = {} },
}

-- The packet as a socket filter or tc program sees it: from the Ethernet header.
M.pkt = { __dissector = t('struct eth_t'), layer = 'eth', off = 0 }
M.eth = M.pkt

-- Program contexts (the first parameter of a compiled function).
M.skb = { __dissector = t('struct __sk_buff') }
M.pt_regs = { __dissector = t('struct pt_regs') }
-- cgroup_sock and cgroup_sock_addr programs' (bpf.cgroup): their addresses
-- and ports read and write in host byte order, like packet fields (the
-- compiler swaps the ones the kernel keeps in network order; sock.src_port
-- is the kernel's in host order already).
M.sock = { __dissector = t('struct bpf_sock') }
M.sock_addr = { __dissector = t('struct bpf_sock_addr') }

M.c = {
  eth = { ip = 0x0800, ip6 = 0x86dd, arp = 0x0806, vlan = 0x8100 },
  ip = { proto_icmp = 1, proto_igmp = 2, proto_tcp = 6, proto_udp = 17, proto_gre = 47,
    proto_icmp6 = 58, proto_sctp = 132, addr_loopback = 0x7f000001, addr_any = 0,
    addr_broadcast = 0xffffffff },
}

return M
