"""The benchmark harness as a library: scenarios, one fair measurement, the report, and the longer runs.

`benchmarks/` holds what people run (`python -m benchmarks`, the locustfiles, the wrk scripts, the results);
this package is what those entry points are made of, and what the tests check piece by piece.
"""
