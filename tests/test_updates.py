"""A generated project keeps up with the kit: through cruft, and through the README's regenerate-and-diff recipe.

Both run against a git repository made from this checkout, as ``gh:org/userstream-kit`` would be, so a
change committed to the kit (here: to one exchange's home) is what an update brings.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from baking import KIT

GIT_IDENTITY = ["-c", "user.name=userstream-kit tests", "-c", "user.email=tests@userstream-kit.invalid"]


def git(*arguments: str, cwd: Path) -> str:
    result = subprocess.run(["git", *GIT_IDENTITY, *arguments], cwd=cwd, capture_output=True, text=True, check=True)
    return result.stdout


def kit_repository(destination: Path) -> Path:
    """This checkout's files (committed or not, symlinks as symlinks) as the first commit of a new repository."""
    listed = git("ls-files", "--cached", "--others", "--exclude-standard", "-z", cwd=KIT).split("\0")
    for name in filter(None, listed):
        source, target = KIT / name, destination / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree, not yet committed
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    git("init", "-q", cwd=destination)
    git("add", "-A", cwd=destination)
    git("commit", "-qm", "the kit", cwd=destination)
    return destination


def environment(home: Path) -> dict[str, str]:
    """A HOME of the test's own: cookiecutter and cruft keep their replay and clones there, not in the user's."""
    return {**os.environ, "HOME": str(home)}


@pytest.fixture
def kit(tmp_path: Path) -> Path:
    if not (KIT / ".git").exists():
        pytest.skip("the kit is not a git checkout")
    return kit_repository(tmp_path / "kit")


def change_the_okx_home(kit: Path) -> str:
    """Commit a change to OKX's connector in the kit; return the line it added."""
    constants = kit / "exchanges" / "okx" / "okx" / "okx_constants.py"
    added = 'DEMO_WS_PRIVATE_URL: Final = "wss://wspap.okx.com:8443/ws/v5/private"'
    constants.write_text(constants.read_text() + f"\n# OKX's demo trading.\n{added}\n")
    git("commit", "-qam", "okx: the demo trading URL", cwd=kit)
    return added


def test_cruft_update_brings_a_change_to_the_exchange_and_the_project_stays_that_preset(
    kit: Path, tmp_path: Path
) -> None:
    home, projects = tmp_path / "home", tmp_path / "projects"
    home.mkdir()
    projects.mkdir()
    answers = json.dumps({"preset": "okx", "run_tests": "auto"})
    cruft = [sys.executable, "-m", "cruft"]
    create = [*cruft, "create", "--no-input", "--directory", "exchanges", "--extra-context", answers, str(kit)]
    created = subprocess.run(create, cwd=projects, env=environment(home), capture_output=True, text=True, check=False)
    assert created.returncode == 0, created.stdout + created.stderr
    project = projects / "okx"
    assert not (project / ".venv").exists(), "cruft renders: no tests run, no .venv made"
    git("init", "-q", cwd=project)
    git("add", "-A", cwd=project)
    git("commit", "-qm", "generated", cwd=project)

    added = change_the_okx_home(kit)
    update = [*cruft, "update", "--skip-apply-ask", "--allow-untracked-files"]
    updated = subprocess.run(update, cwd=project, env=environment(home), capture_output=True, text=True, check=False)
    assert updated.returncode == 0, updated.stdout + updated.stderr

    assert added in (project / "okx" / "okx_constants.py").read_text(), "the kit's change arrived"
    state = json.loads((project / ".cruft.json").read_text())
    assert state["directory"] == "exchanges"
    assert state["context"]["cookiecutter"]["preset"] == "okx", "still the OKX preset"
    assert not list(project.rglob("*.rej")), "nothing failed to apply"
    assert not (project / ".venv").exists()


def update_recipe(project: Path, kit: Path) -> list[str]:
    """The commands under the generated README's "Update it when the kit improves", pointed at ``kit``."""
    readme = (project / "README.md").read_text()
    section = readme.split("## Update it when the kit improves", 1)[1]
    [block] = re.findall(r"^```bash\n(.*?)^```$", section, flags=re.DOTALL | re.MULTILINE)[:1]
    return [line.replace("gh:org/userstream-kit", str(kit)) for line in block.splitlines() if line.strip()]


@pytest.mark.parametrize(
    "answers",
    [
        ["template=websocket (generic/websocket)", "archetype=rest_token", "exchange=foo"],
        ["template=preset (exchanges)", "preset=okx"],
    ],
    ids=["generic", "preset"],
)
def test_the_readme_recipe_shows_no_difference_without_a_kit_change_and_the_change_after_one(
    kit: Path, tmp_path: Path, answers: list[str]
) -> None:
    home, output = tmp_path / "home", tmp_path / "generated"
    home.mkdir()
    generate = [sys.executable, "-m", "cookiecutter", "--no-input", "--output-dir", str(output), str(kit)]
    result = subprocess.run(
        [*generate, *answers, "run_tests=current"], env=environment(home), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [project] = output.iterdir()
    regenerated = tmp_path / "regenerated"

    def recipe() -> subprocess.CompletedProcess[str]:
        shutil.rmtree(regenerated, ignore_errors=True)
        commands = " && ".join(update_recipe(project, kit)).replace("/tmp/regenerated", str(regenerated))
        return subprocess.run(
            ["bash", "-c", commands], cwd=project, env=environment(home), capture_output=True, text=True, check=False
        )

    unchanged = recipe()
    assert unchanged.returncode == 0, "no difference: " + unchanged.stdout + unchanged.stderr
    if "preset=okx" in answers:
        added = change_the_okx_home(kit)
        changed = recipe()
        assert changed.returncode == 1
        assert f"+{added}" in changed.stdout, changed.stdout
