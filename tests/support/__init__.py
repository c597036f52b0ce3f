"""Helpers the tests share: plain modules, imported by name, never from a conftest."""
