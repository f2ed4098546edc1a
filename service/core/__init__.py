"""What every part of a worker shares: its settings (from the environment) and its runtime."""
