// 15. A 5-tuple hash of a TCP or UDP packet: addresses, ports and protocol
// xored, then murmur3's 32-bit finaliser; 0 for other protocols.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

static __always_inline __u32 fmix32(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	return h ^ (h >> 16);
}

SEC("tc")
int tuple_hash(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	if ((void *)(ip + 1) > data_end)
		return 0;
	void *l4 = (void *)ip + ip->ihl * 4;
	__u16 sport, dport;
	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;
		if ((void *)(tcp + 1) > data_end)
			return 0;
		sport = tcp->source, dport = tcp->dest;
	} else if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = l4;
		if ((void *)(udp + 1) > data_end)
			return 0;
		sport = udp->source, dport = udp->dest;
	} else {
		return 0;
	}
	__u32 ports = (__u32)bpf_ntohs(sport) << 16 | bpf_ntohs(dport);
	return fmix32(bpf_ntohl(ip->saddr) ^ bpf_ntohl(ip->daddr) ^ ports ^ ip->protocol);
}

char LICENSE[] SEC("license") = "GPL";
