"""The run queue: enqueueing, queue control, atomic claims, leases and the worker."""
