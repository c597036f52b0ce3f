"""Tiny runnable apps beside ours: the examples the docs include, and the bare baselines (baselines.py) that the
harness measures our apps against; tests/unit/test_docs_src.py and tests/unit/test_baselines.py run each one."""
