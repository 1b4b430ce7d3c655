"""`python -m mockserver`: the same as the `mockserver` command."""

from mockserver.cli import main

main()
