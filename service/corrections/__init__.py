"""Corrections: the queue of what predictions should have read, the kept images and their retention."""
