"""`assistant serve` and `assistant watch` (placeholders until the UI lands)."""

import click


@click.command()
def serve() -> None:
    """Start the web chat."""
    raise click.ClickException("not implemented yet")


@click.command()
def watch() -> None:
    """Watch sources/ and re-index on change."""
    raise click.ClickException("not implemented yet")
