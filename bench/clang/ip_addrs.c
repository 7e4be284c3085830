// 9. Address tests as bits: 1 source in 10/8, 2 destination in 192.168/16,
// 4 source in 127/8, 8 destination exactly 127.0.0.1.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("tc")
int ip_addrs(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	if ((void *)(ip + 1) > data_end)
		return 0;
	__u32 src = bpf_ntohl(ip->saddr), dst = bpf_ntohl(ip->daddr);
	int r = 0;
	if (src >> 24 == 10)
		r |= 1;
	if (dst >> 16 == 0xc0a8)
		r |= 2;
	if (src >> 24 == 127)
		r |= 4;
	if (dst == 0x7f000001)
		r |= 8;
	return r;
}

char LICENSE[] SEC("license") = "GPL";
