"""Start Solo: ``python run.py`` runs the assistant; ``python run.py SUB ...`` is ``solo SUB``."""

from solo_actors.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
