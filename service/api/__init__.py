"""The HTTP API beside the prediction routes: one FastAPI router per resource, gathered in ``app``."""
