// 20. Bytes (skb->len) per UDP destination port in a hash map keyed by
// port; returns the port, 0 if not UDP.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} bytes SEC(".maps");

SEC("tc")
int port_hash(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_UDP)
		return 0;
	struct udphdr *udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > data_end)
		return 0;
	__u32 port = bpf_ntohs(udp->dest);
	__u64 *v = bpf_map_lookup_elem(&bytes, &port);
	if (v) {
		__sync_fetch_and_add(v, skb->len);
	} else {
		__u64 len = skb->len;
		bpf_map_update_elem(&bytes, &port, &len, BPF_ANY);
	}
	return port;
}

char LICENSE[] SEC("license") = "GPL";
