"""Digitify's DVC pipeline stages, one module each, runnable as ``python -m pipelines.<stage>``."""
