"""Choosing and opening a sandbox backend from the registry (``[sandbox]``)."""
