"""Backends: the contract (``contract.py``), the registry of backends by name (``registry.py``), and each backend."""
