"""The archetype tests drive the kit's exchange connectors where they live: each exchange's one home.

``exchanges/<exchange>/`` holds the connector a preset generates, as real Python; a generated project
copies those files verbatim. Putting the homes on the path lets these tests import them as the
generated project does: ``from okx.okx_auth import OkxAuth``.
"""

import sys
from pathlib import Path

KIT = Path(__file__).resolve().parents[3]
for answer_file in sorted(KIT.glob("exchanges/*/preset.yaml")):
    sys.path.insert(0, str(answer_file.parent))
