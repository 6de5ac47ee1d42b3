"""`assistant eval` (placeholder until the evaluation lands)."""

import click


@click.command("eval")
def eval_command() -> None:
    """Score answers against a test set (JSONL)."""
    raise click.ClickException("not implemented yet")
