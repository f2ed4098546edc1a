"""Continuous batching: the calls of concurrent callers become one (the spool writer, the inference pool)."""
