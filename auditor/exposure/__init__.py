"""Effective exposure: who can really reach each container port, from the host's firewall.

Readers turn the host's dumps (iptables-save, ip6tables-save, nft -j, ip -j addr/route,
sysctls, docker-proxy processes, ss) into frozen ``FirewallFacts`` and ``HostNetwork``
records; ``analyze_exposure`` follows a connection attempt from every source zone to every
container port through the netfilter hooks and answers reachable / blocked / unknown with
the trace of the rules that decided it. Imports nothing from auditor but the model.
"""
