// 2. Count TCP (0), UDP (1) and anything else (2) into an array map.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u32);
} counts SEC(".maps");

SEC("tc")
int proto_count(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	// too short: nothing counted (our side's rule for a read past the end)
	if ((void *)(ip + 1) > data_end)
		return 0;
	__u32 k = 2;
	if (ip->protocol == IPPROTO_TCP)
		k = 0;
	else if (ip->protocol == IPPROTO_UDP)
		k = 1;
	__u32 *v = bpf_map_lookup_elem(&counts, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
