"""The ``assistant`` command group. Commands live in their own modules; all of them share
``common`` (options before or after the command, and the one error edge)."""

from __future__ import annotations

from typing import Any

import click

from .commands import ask, index, search, status
from .common import AssistantGroup, root_options
from .eval import eval_command
from .serve import serve, watch


@click.group(cls=AssistantGroup)
@root_options
@click.version_option(package_name="news-assistant")
def main(**_: Any) -> None:
    """Cited question answering over a folder of news articles."""


for command in (index, status, search, ask, eval_command, serve, watch):
    main.add_command(command)
