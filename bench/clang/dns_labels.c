// 17. The number of labels in a DNS query's name (a walk of at most 16
// labels, a constant bound), 0 if not UDP to port 53 or longer than that.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("tc")
int dns_labels(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_UDP)
		return 0;
	struct udphdr *udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > data_end || udp->dest != bpf_htons(53))
		return 0;
	__u8 *name = (void *)(udp + 1) + 12;
	for (int n = 0; n < 16; n++) {
		if ((void *)(name + 1) > data_end)
			return 0;
		__u8 len = *name;
		if (len == 0)
			return n;
		name += len + 1;
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
