// 33. XDP: an IPv4 packet's TTL decremented, its header checksum updated
// (the frame comes back changed); XDP_PASS (2), or XDP_DROP (1) at TTL 1.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

// RFC 1624's incremental update, in network order as the kernel's csum_replace2
static __always_inline void csum_replace2(__u16 *sum, __u16 from, __u16 to)
{
	__u32 s = (__u16)~*sum + (__u32)(__u16)~from + to;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	*sum = ~s;
}

SEC("xdp")
int xdp_ttl(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if (ip->ttl <= 1)
		return XDP_DROP;
	__u16 *word = (__u16 *)&ip->ttl; // ttl and protocol share a word
	__u16 old = *word;
	ip->ttl--;
	csum_replace2(&ip->check, old, *word);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
