"""Entry point of the PyInstaller bundle: the same as the `visage` command."""

from app.cli import main

if __name__ == "__main__":
    main()
