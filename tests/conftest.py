import sys
from pathlib import Path

# tests/fixtures.py is importable as `fixtures` from every tier.
sys.path.insert(0, str(Path(__file__).parent))
