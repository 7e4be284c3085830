// 29. Bounded search: 1 + the offset of the first space in the first 32
// bytes of a TCP or UDP payload; 0 if there is none there (or the payload ends first).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int payload_search(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	if ((void *)(ip + 1) > data_end)
		return 0;
	void *l4 = (void *)ip + ip->ihl * 4;
	__u8 *p;
	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;
		if ((void *)(tcp + 1) > data_end)
			return 0;
		p = l4 + tcp->doff * 4;
	} else if (ip->protocol == IPPROTO_UDP) {
		p = l4 + sizeof(struct udphdr);
	} else {
		return 0;
	}
	for (int i = 0; i < 32; i++) {
		if ((void *)(p + i + 1) > data_end)
			return 0;
		if (p[i] == ' ')
			return i + 1;
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
