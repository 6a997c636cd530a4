"""`python -m app` is the same as the `visage` command."""

from app.cli import main

main()
