"""The network benchmark behind ``auditor bench``: what each Docker network mode costs.

plan (which modes, in which order) -> environment (labelled containers and networks, always
removed) -> runner (iperf3 -J, sockperf, connection rate) -> statistics -> results (JSON).
"""
