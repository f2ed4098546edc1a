"""Digitify's serving half: the BentoML service, auth, prediction logging and admin queries."""
