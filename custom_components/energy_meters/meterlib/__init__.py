"""Energy meter library: profiles, read planning, decoding and Modbus transport.

Pure Python with no Home Assistant imports (a test enforces this), so the
simulator, the benchmarks and the tests can use it on their own, and it could
ship as its own package later.
"""
