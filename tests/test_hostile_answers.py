"""Any display name or description must produce valid, equivalent code: answers are data, never source.

Hypothesis generates names with quotes, backslashes, newlines, control characters and non-ASCII;
each bake's Python must compile and hold exactly the name, its pyproject.toml must parse to exactly
the description, and its answers file must round-trip.
"""

from __future__ import annotations

import json
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import pytest
from baking import KIT, generic_answers
from cookiecutter.main import cookiecutter
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

# Jinja syntax inside an answer is rendered by cookiecutter itself (a feature of its own), so it is left out.
JINJA_MARKERS = ("{{", "{%", "{#", "}}", "%}", "#}")
answer_text = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40).filter(
    lambda text: text.strip() and not any(marker in text for marker in JINJA_MARKERS)
)


def as_cookiecutter_keeps_it(text: str) -> str:
    """Cookiecutter renders every answer as a Jinja template, and Jinja reads \\r\\n and \\r as \\n."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


@pytest.mark.parametrize(
    "archetype_answers",
    [
        generic_answers("login_message"),
        generic_answers("rest_token", passphrase=True, signature_encoding="base64", ping_style="text"),
        generic_answers("rest_polling"),
    ],
    ids=["login_message", "rest_token", "rest_polling"],
)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(display_name=answer_text, description=answer_text)
@example(display_name='O\'Connor "Exchange"', description='name "quote" name')
@example(display_name="back\\slash \"\"\" and '''", description="line\nbreak\r\nand\ttab")
@example(display_name="Böörse 🚀 交易所", description="\x7f\x00\u2028\u2029")
def test_hostile_answers_produce_valid_equivalent_code(
    archetype_answers: dict[str, Any], display_name: str, description: str
) -> None:
    display_name, description = as_cookiecutter_keeps_it(display_name), as_cookiecutter_keeps_it(description)
    with tempfile.TemporaryDirectory() as output:
        project = Path(
            cookiecutter(
                str(KIT),
                no_input=True,
                output_dir=output,
                default_config={"replay_dir": str(Path(output) / "replay")},
                extra_context={
                    **archetype_answers,
                    "display_name": display_name,
                    "description": description,
                    "run_tests": "skip",
                },
            )
        )
        for path in project.rglob("*.py"):
            compile(path.read_text(encoding="utf-8"), str(path), "exec")
        pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
        assert pyproject["project"]["description"] == description
        answers = json.loads((project / ".cookiecutter.json").read_text(encoding="utf-8"))["default_context"]
        assert (answers["display_name"], answers["description"]) == (display_name, description)
        title = (project / "README.md").read_text(encoding="utf-8").splitlines()[0]
        assert title == f"# {' '.join(display_name.split())} user stream"
