"""Property-based fuzzing: both apps against their own OpenAPI documents, with schemathesis."""
