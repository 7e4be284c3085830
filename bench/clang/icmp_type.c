// 14. ICMP: 1 for an echo request, 2 for an echo reply, 3 for any other
// type (code 0) and 4 (code not 0); 0 if not ICMP.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

// <linux/icmp.h> pulls in libc headers through <linux/if.h>: the header by hand
struct icmphdr {
	__u8 type, code;
	__sum16 checksum;
	__be16 id, sequence;
};
#define ICMP_ECHOREPLY 0
#define ICMP_ECHO 8

SEC("tc")
int icmp_type(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_ICMP)
		return 0;
	struct icmphdr *icmp = (void *)ip + ip->ihl * 4;
	if ((void *)(icmp + 1) > data_end)
		return 0;
	if (icmp->code != 0)
		return 4;
	switch (icmp->type) {
	case ICMP_ECHO:
		return 1;
	case ICMP_ECHOREPLY:
		return 2;
	}
	return 3;
}

char LICENSE[] SEC("license") = "GPL";
