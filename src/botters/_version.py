"""The package version, in one place (read by the build backend too).

A plain constant keeps ``import botters`` fast: ``importlib.metadata`` alone
costs ~30 ms.
"""

__version__ = "0.1.0"
