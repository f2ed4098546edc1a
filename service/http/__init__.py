"""HTTP plumbing: ASGI types and the one error answer, security headers, the loopback, auth, task and request guards."""
