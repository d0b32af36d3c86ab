"""The bundle's entry point: the same command line as the installed `assistant` script."""

from assistant.app import main

raise SystemExit(main())
