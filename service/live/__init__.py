"""The live admin dashboard: events on Redis pub/sub, the figures they refresh, the stream and its tickets."""
