"""Zhejiang market-supervision scenario simulator (Mesa agent-based model)."""

__version__ = "0.1.0"
