// 32. A class from skb->protocol (4 IPv4, 6 IPv6, 0x81 802.1Q, 1 other),
// plus 0x100 when skb->mark is set and 0x200 when skb->priority is above 2.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("tc")
int skb_class(struct __sk_buff *skb)
{
	int r;
	switch (bpf_ntohs(skb->protocol)) {
	case ETH_P_IP: r = 4; break;
	case ETH_P_IPV6: r = 6; break;
	case ETH_P_8021Q: r = 0x81; break;
	default: r = 1;
	}
	if (skb->mark)
		r |= 0x100;
	if (skb->priority > 2)
		r |= 0x200;
	return r;
}

char LICENSE[] SEC("license") = "GPL";
