"""The package list only (everything else is in pyproject.toml).

The web UI lives in the top-level ``ui/`` folder but installs as ``assistant.ui`` (the
package-dir mapping in pyproject.toml); a static ``packages.find`` cannot add a mapped
package to the ones it finds under src/, so the list is computed here.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages("src", include=["assistant", "assistant.*"]), "assistant.ui"])
