"""The prediction log: the one builder of its rows, the durable spool, the logbook that flushes it, its metrics."""
