"""``python -m reelhouse``: the command line."""

from reelhouse.cli.root import main

if __name__ == "__main__":
    main()
