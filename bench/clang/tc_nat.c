// 35. tc: IPv4 sent to 10.0.0.5 instead of where it was going, the IP
// checksum and the TCP or UDP one (pseudo-header) updated; returns 0.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <stddef.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define IP_OFF sizeof(struct ethhdr)

SEC("tc")
int tc_nat(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return 0;
	__u32 from = ip->daddr, to = bpf_htonl(0x0a000005);
	__u8 proto = ip->protocol;
	__u32 l4 = IP_OFF + ip->ihl * 4;
	int later_fragment = ip->frag_off & bpf_htons(0x1fff);
	if (bpf_skb_store_bytes(skb, IP_OFF + offsetof(struct iphdr, daddr), &to, 4, 0) ||
	    bpf_l3_csum_replace(skb, IP_OFF + offsetof(struct iphdr, check), from, to, 4))
		return 0;
	if (later_fragment)
		return 0;
	if (proto == IPPROTO_TCP)
		bpf_l4_csum_replace(skb, l4 + 16, from, to, BPF_F_PSEUDO_HDR | 4);
	else if (proto == IPPROTO_UDP)
		bpf_l4_csum_replace(skb, l4 + 6, from, to, BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0 | 4);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
