"""``python -m gymie``: start the server."""

from gymie.cli import main

main()
