"""`python -m assistant` starts the app (or a subcommand)."""

from assistant.app import main

raise SystemExit(main())
