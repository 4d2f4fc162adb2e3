"""wq-desktop (退地减水核查). No arguments: open the window. With a command: run it (see --help)."""

import sys


def main() -> int:
    from wq_desktop.cli import main as cli_main

    return cli_main(sys.argv[1:] or ["app"])


if __name__ == "__main__":
    sys.exit(main())
