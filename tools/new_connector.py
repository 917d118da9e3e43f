"""Generate a connector with every answer checked first, including what cookiecutter itself lets through.

``cookiecutter`` ignores a config-file key it does not know (``archetyp:``), ignores a config file with
no ``default_context:``, and ends a choice outside its list in a traceback. This command takes the same
answers (a config file, ``key=value`` on the command line), checks them against the kit's menu and the
chosen template's questions (`hooks.answer_files`), prints one line per problem naming the file or the
command line, and generates nothing unless all are right; then it runs cookiecutter with them.

    python tools/new_connector.py --config-file exchanges/okx/preset.yaml --output-dir generated
    python tools/new_connector.py --output-dir generated "template=websocket (generic/websocket)" exchange=foo
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml
from cookiecutter.exceptions import CookiecutterException
from cookiecutter.main import cookiecutter

KIT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(KIT))  # the kit's hooks package, as cookiecutter imports it for the template

from hooks import answer_files  # noqa: E402 - importable once the kit is on the path

PROGRAM = "new_connector"


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python tools/{PROGRAM}.py", description=__doc__.splitlines()[0])
    parser.add_argument("--config-file", type=Path, help="a cookiecutter config file of answers (default_context:)")
    parser.add_argument("--output-dir", type=Path, default=Path("."), help="where the project goes (default: .)")
    parser.add_argument("--no-input", action="store_true", help="ask nothing: take the defaults for what is not given")
    parser.add_argument("answers", nargs="*", metavar="key=value", help="answers, as cookiecutter takes them")
    return parser.parse_args(argv)


def command_line_answers(pairs: list[str]) -> tuple[list[str], dict[str, str]]:
    found, answers = [], {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key:
            found.append(f"command line: {pair!r} is not key=value")
            continue
        answers[key] = value
    return found, answers


def problems(config_file: Path | None, pairs: list[str]) -> list[str]:
    found: list[str] = []
    from_file: dict[str, Any] = {}
    if config_file is not None:
        try:
            config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
        except OSError as error:
            return [f"{config_file}: cannot be read ({error.strerror})"]
        except yaml.YAMLError as error:
            return [f"{config_file}: is not YAML ({str(error).splitlines()[0]})"]
        shape, answers = answer_files.config_problems(config, str(config_file))
        found += shape
        from_file = dict(answers)
        found += answer_files.answer_problems(KIT, from_file, str(config_file))
    malformed, from_command_line = command_line_answers(pairs)
    found += malformed
    menu_choice = {"template": from_file["template"]} if "template" in from_file else {}
    found += answer_files.answer_problems(KIT, {**menu_choice, **from_command_line}, "command line")
    return found


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    found = problems(arguments.config_file, arguments.answers)
    if found:
        for problem in found:
            print(f"{PROGRAM}: {problem}", file=sys.stderr)
        print(f"{PROGRAM}: nothing was generated.", file=sys.stderr)
        return 2
    _, extra_context = command_line_answers(arguments.answers)
    try:
        project = cookiecutter(
            str(KIT),
            no_input=arguments.no_input,
            config_file=None if arguments.config_file is None else str(arguments.config_file),
            extra_context=extra_context,
            output_dir=str(arguments.output_dir),
        )
    except CookiecutterException as error:
        print(f"{PROGRAM}: {error}", file=sys.stderr)
        return 1
    print(f"{PROGRAM}: {project}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
