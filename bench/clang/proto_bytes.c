// 21. Bytes (skb->len) per IP protocol number in a 256-slot array map of
// 64-bit counters, IPv4 frames only; returns the protocol.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} bytes SEC(".maps");

SEC("tc")
int proto_bytes(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return 0;
	__u32 proto = ip->protocol;
	__u64 *v = bpf_map_lookup_elem(&bytes, &proto);
	if (v)
		__sync_fetch_and_add(v, skb->len);
	return proto;
}

char LICENSE[] SEC("license") = "GPL";
