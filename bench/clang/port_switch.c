// 31. A compare chain: the destination port of TCP or UDP among eight known
// ones (1 to 8), 9 for any other port, 0 for other protocols.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("tc")
int port_switch(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	if ((void *)(ip + 1) > data_end)
		return 0;
	void *l4 = (void *)ip + ip->ihl * 4;
	__u16 port;
	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;
		if ((void *)(tcp + 1) > data_end)
			return 0;
		port = tcp->dest;
	} else if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = l4;
		if ((void *)(udp + 1) > data_end)
			return 0;
		port = udp->dest;
	} else {
		return 0;
	}
	switch (bpf_ntohs(port)) {
	case 22: return 1;
	case 25: return 2;
	case 53: return 3;
	case 80: return 4;
	case 123: return 5;
	case 443: return 6;
	case 5353: return 7;
	case 7777: return 8;
	}
	return 9;
}

char LICENSE[] SEC("license") = "GPL";
