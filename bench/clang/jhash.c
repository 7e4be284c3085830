// 22. jhash_3words (the kernel's lookup3 final mix) of an IPv4 packet's
// source, destination and protocol, initval 0.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

static __always_inline __u32 rol32(__u32 x, int k) { return x << k | x >> (32 - k); }

static __always_inline __u32 jhash_3words(__u32 a, __u32 b, __u32 c)
{
	__u32 iv = 0xdeadbeef + (3 << 2);
	a += iv, b += iv, c += iv;
	c ^= b; c -= rol32(b, 14);
	a ^= c; a -= rol32(c, 11);
	b ^= a; b -= rol32(a, 25);
	c ^= b; c -= rol32(b, 16);
	a ^= c; a -= rol32(c, 4);
	b ^= a; b -= rol32(a, 14);
	c ^= b; c -= rol32(b, 24);
	return c;
}

SEC("tc")
int jhash(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	if ((void *)(ip + 1) > data_end)
		return 0;
	return jhash_3words(bpf_ntohl(ip->saddr), bpf_ntohl(ip->daddr), ip->protocol);
}

char LICENSE[] SEC("license") = "GPL";
