"""The benchmark harness: every server configuration, measured fairly, drawn as charts."""
