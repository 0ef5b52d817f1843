"""The network benchmark behind ``auditor bench``: what each Docker network mode costs.

modes (one ``Mode`` record per mode: description, skip rule, set-up, comparisons, path) ->
plan (which modes, in which order) -> environment (labelled containers and networks, always
removed) -> runner (iperf3 -J, sockperf, connection rate) -> results (statistics into the
``auditor.model.bench`` records); ``session.run_benchmark`` runs the whole chain.
"""
