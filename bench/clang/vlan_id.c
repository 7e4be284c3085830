// 16. The VLAN id of an 802.1Q frame carrying IPv4, 0x1000 for an untagged
// IPv4 frame, 0 otherwise.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct vlan_hdr {
	__be16 tci;
	__be16 encapsulated_proto;
};

SEC("tc")
int vlan_id(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		return 0x1000;
	if (eth->h_proto != bpf_htons(ETH_P_8021Q))
		return 0;
	struct vlan_hdr *vh = (void *)(eth + 1);
	if ((void *)(vh + 1) > data_end || vh->encapsulated_proto != bpf_htons(ETH_P_IP))
		return 0;
	return bpf_ntohs(vh->tci) & 0xfff;
}

char LICENSE[] SEC("license") = "GPL";
