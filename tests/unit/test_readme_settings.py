"""The README's settings example is a valid file that names every setting."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

from hookline.config import Settings, load_settings

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_toml() -> str:
    [block] = re.findall(r"```toml\n(.*?)```", README.read_text(), flags=re.S)
    return block


def test_the_example_loads() -> None:
    """Every key in the example is a real setting with a value of the right type."""
    settings = load_settings(file_text=readme_toml(), environ={})
    assert settings.handlers["categorization"].kind == "http"
    assert settings.types["sentiment"].params_schema == {"type": "object", "required": ["text"]}


def test_the_example_names_every_fixed_setting() -> None:
    """A new setting shows up in the README's example, with its environment variable."""
    document = tomllib.loads(readme_toml())
    for section in dataclasses.fields(Settings):
        if section.name in ("types", "handlers", "database_url"):
            continue  # open tables and the top-level URL, shown by example
        section_type = type(getattr(Settings(), section.name))
        for setting in dataclasses.fields(section_type):
            assert setting.name in document[section.name], f"[{section.name}] {setting.name}"
            env = f"HOOKLINE_{section.name}_{setting.name}".upper()
            assert env in readme_toml(), env
