"""`python -m client`: the same as the `videogen` command."""

from client.cli import main

main()
