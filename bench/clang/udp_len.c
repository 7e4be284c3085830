// 13. A UDP datagram's payload length from its header, when that fits in
// the IPv4 payload (tot_len - ihl * 4); 0xffff when it does not, 0 if not UDP.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("tc")
int udp_len(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_UDP)
		return 0;
	struct udphdr *udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > data_end)
		return 0;
	int len = bpf_ntohs(udp->len);
	if (len < 8 || len > bpf_ntohs(ip->tot_len) - ip->ihl * 4)
		return 0xffff;
	return len - 8;
}

char LICENSE[] SEC("license") = "GPL";
