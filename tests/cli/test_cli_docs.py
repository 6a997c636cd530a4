"""Every command has help text and is documented in the README."""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from app.cli import cli

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def walk(group: click.Group, prefix: str = "visage") -> list[tuple[str, click.Command]]:
    out = []
    for name, command in group.commands.items():
        full = f"{prefix} {name}"
        out.append((full, command))
        if isinstance(command, click.Group):
            out.extend(walk(command, full))
    return out


COMMANDS = walk(cli)


def test_there_are_commands() -> None:
    names = {name for name, _ in COMMANDS}
    assert {"visage talk", "visage chat", "visage doctor", "visage history search", "visage config show"} <= names


def test_every_command_has_help_text_and_is_in_the_readme() -> None:
    runner = CliRunner()
    for name, command in COMMANDS:
        assert command.help and len(command.help) > 15, f"{name} has no help text"
        result = runner.invoke(cli, [*name.split()[1:], "--help"])
        assert result.exit_code == 0, result.output
        assert "Usage:" in result.output
        assert f"`{name}" in README, f"{name} is not documented in README.md"


def test_readme_quick_start_has_exactly_two_commands() -> None:
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    block = quick.split("```bash", 1)[1].split("```", 1)[0]
    lines = [line for line in block.strip().splitlines() if line.strip()]
    assert len(lines) == 2
    for line in lines:
        script = line.split()[1]
        assert (Path(__file__).resolve().parents[2] / script).is_file()


def test_ci_runs_the_readme_test_command() -> None:
    ci = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text()
    assert "scripts/test.sh" in ci and "scripts/test.sh" in README
