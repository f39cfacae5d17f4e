"""`python -m tightrope ...`: the same as the `tightrope` command."""

from tightrope.cli.app import main

if __name__ == "__main__":
    main()
