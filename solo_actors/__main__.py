"""``python -m solo_actors`` is the ``solo`` command."""

from solo_actors.cli import main

raise SystemExit(main())
