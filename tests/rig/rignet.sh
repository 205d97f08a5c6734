# rignet.sh - a network namespace and veth pair for a rig (sourced by
# smbrig and adrig, not run).
#
# A rig's server runs in a namespace PREFIX$N of its own, reached from the
# host over a veth pair: host side IFPREFIX$N, namespace side PEER.  N is
# the first index whose host interface, addresses, routes and namespace
# are all unused; "ip netns add" refuses a name that exists, so two rigs
# starting at once cannot take the same index.  Needs root and iproute2.

# net_claim NSPREFIX IFPREFIX PEER NET: claim an index N (0-255), create
# the namespace NSPREFIX$N and the pair IFPREFIX$N / PEER; NET is the
# first two octets of the addresses (NET.N.x) and only used to skip an
# index whose addresses or routes are in use.  Prints N.
net_claim() {
	local nsp=$1 ifp=$2 peer=$3 net=$4 n
	for n in $(seq 0 255); do
		ip link show "$ifp$n" >/dev/null 2>&1 && continue
		ip -o addr show | grep -qF " $net.$n." && continue
		ip route show | grep -qF "$net.$n." && continue
		ip netns add "$nsp$n" 2>/dev/null || continue
		if ip link add "$ifp$n" type veth peer name "$peer" netns "$nsp$n" 2>/dev/null; then
			echo "$n"
			return 0
		fi
		ip netns del "$nsp$n" 2>/dev/null || true
	done
	return 1
}

# net_up NS IF PEER HOST_CIDR NS_CIDR: give both ends their address and
# bring them (and the namespace's loopback) up.
net_up() {
	ip addr add "$4" dev "$2" &&
		ip link set "$2" up &&
		ip -n "$1" addr add "$5" dev "$3" &&
		ip -n "$1" link set "$3" up &&
		ip -n "$1" link set lo up
}

# net_remove NS IF: delete the pair (both ends go with the host side) and
# the namespace.  Quiet, and a no-op for what is already gone.
net_remove() {
	ip link del "$2" 2>/dev/null || true
	ip netns del "$1" 2>/dev/null || true
}
