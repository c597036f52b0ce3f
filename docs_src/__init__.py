"""Tiny runnable examples that the docs include; tests/unit/test_docs_src.py runs each one."""
