"""The slash commands the cogs define and what the project says about them agree, both ways.

Compared with the commands (tests/unit/cog_commands.py): docs/permissions.md's matrix and the README's
copy of it, /help's list and its line for each command in every language, the README's command
reference (each command once, every option under its own name, optional ones in brackets, in the
order Discord shows them, and who may run it), and every mention of a command in README.md, docs/*.md
and the message catalogs (a command, group or option that does not exist). A command added, renamed or
given a new option without its documentation fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from discord import Permissions

from bot import i18n
from bot.roles import EVERYONE, MATRIX, OWN_BRAND_ONLY, ROLE_ORDER, TAKER_ONLY, Role, cell, help_sections
from tests.unit.cog_commands import Defined, cog_commands

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
REFERENCE_HEADER = "| Command | Who | What |"
MATRIX_HEADER = "| Command | Moderator | Brand manager | Partner | Member |"
ELISION = {"…", "...", "*"}
OPTIONAL = re.compile(r"^\[([a-z0-9_]+)\]$")
NAMED = re.compile(r"^([a-z0-9_]+)(?::.*)?$")
PLACEHOLDER = re.compile(r"^\{[a-z_]+\}$")  # a catalog's value, e.g. `/activation approve {id}`
SPAN = re.compile(r"`(/[a-z][^`\n]*)`")  # `/{command}` (a catalog's placeholder) is no mention


class Unknown(Exception):
    """A mention names a command, group or option that does not exist."""


def commands() -> dict[str, Defined]:
    return cog_commands()


def groups() -> set[str]:
    found = set()
    for name in commands():
        words = name.split(" ")
        found.update(" ".join(words[:i]) for i in range(1, len(words)))
    return found


def options(name: str) -> list[tuple[str, bool]]:
    """The options Discord shows for a command: (name, required), in order."""
    return [(p.display_name, p.required) for p in commands()[name].command.parameters]


def resolve(mention: str) -> tuple[list[str], list[str]]:
    """The commands or groups a mention names (`a|b` names both), and the words after them."""
    words = mention.removeprefix("/").split()
    paths = [""]
    for i, word in enumerate(words):
        candidates = [f"{p} {alt}".strip() for p in paths for alt in word.replace("\\|", "|").split("|")]
        if all(c in commands() for c in candidates):
            return candidates, words[i + 1 :]
        if all(c in groups() for c in candidates):
            paths = candidates
            continue
        if i == 0 or any(c in commands() or c in groups() for c in candidates):
            raise Unknown(f"`{mention}`: no command /{' | /'.join(candidates)}")
        return paths, words[i:]
    return paths, []


def check_mention(mention: str) -> None:
    """Each word after a command names one of its options (`name`, `[name]`, `name:value`), or elides
    some; a group is followed by nothing, or by an elision standing for its commands."""
    named, rest = resolve(mention)
    for name in named:
        if name in groups():
            if rest and not (rest[0] in ELISION or rest[0].startswith("<")):
                raise Unknown(f"`{mention}`: /{name} has no command {rest[0]!r}")
            continue
        known = {option for option, _ in options(name)}
        for word in rest:
            if word in ELISION or PLACEHOLDER.match(word):
                continue
            match = OPTIONAL.match(word) or NAMED.match(word)
            if match is None or match[1] not in known:
                raise Unknown(f"`{mention}`: /{name} has no option {word!r} (it has {sorted(known)})")


def mentions(text: str) -> list[str]:
    """Backticked mentions of a slash command (not URL paths such as `/api/info`)."""
    return [span for span in SPAN.findall(text) if "/" not in span.split()[0][1:]]


def catalog_mentions(text: str) -> list[str]:
    """Commands a message names, backticked or in running text (where the words after it are prose)."""
    found = mentions(text)
    for match in re.finditer(r"(?:^|[\s(\"'])(/[a-z][a-z-]*(?: [a-z][a-z-]*){0,3})", text):
        words, command = match[1].split(), []
        for word in words:
            candidate = " ".join([*command, word]).removeprefix("/")
            if candidate in groups() or candidate in commands() or not command:
                command.append(word)
            else:
                break
        found.append(" ".join(command))
    return found


def reference_rows(text: str) -> list[tuple[str, str]]:
    """(command cell, who cell) of each row of the README's command reference tables."""
    rows, inside = [], False
    for line in text.splitlines():
        if line.startswith(REFERENCE_HEADER):
            inside = True
        elif inside and line.startswith("|---"):
            continue
        elif inside and line.startswith("| "):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            rows.append((cells[0], cells[1]))
        else:
            inside = False
    return rows


def documented_roles(who: str) -> frozenset[Role]:
    """The roles a "Who" cell lets in: its words outside parentheses (those qualify, never add)."""
    words = re.sub(r"\([^)]*\)", "", who)
    if "anyone" in words:
        return EVERYONE
    roles = set()
    if "moderators" in words:
        roles.add(Role.MODERATOR)
    if re.search(r"brand managers|brand's managers", words):
        roles.add(Role.BRAND_MANAGER)
    if "partners" in words:
        roles.add(Role.PARTNER)
    if "the taker" in words:
        roles.update({Role.BRAND_MANAGER, Role.PARTNER})
    return frozenset(roles)


OWN_BRANDS = re.compile(r"own brands?|that brand|their brands|theirs|the brand's managers")


def check_who(name: str, who: str) -> None:
    assert documented_roles(who) == MATRIX[name], f"/{name}: {who!r} says who, the matrix says otherwise"
    if Role.BRAND_MANAGER in MATRIX[name] and name not in TAKER_ONLY:
        limited = OWN_BRANDS.search(who) is not None
        assert limited == (name in OWN_BRAND_ONLY), f"/{name}: {who!r} on brand managers' own brands"


def matrix_rows(text: str) -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    inside = False
    for line in text.splitlines():
        if line.startswith(MATRIX_HEADER):
            inside = True
        elif inside and line.startswith("| `/"):
            cells = [c.strip() for c in line.split("|")[1:-1]]
            name = cells[0].strip("`").removeprefix("/")
            assert name not in rows, f"/{name} twice in the matrix"
            rows[name] = cells[1:]
        elif inside and not line.startswith("|"):
            inside = False
    return rows


@pytest.mark.parametrize("doc", [ROOT / "docs" / "permissions.md", README], ids=lambda p: p.name)
def test_the_permission_matrix_has_one_row_per_command_and_no_other(doc: Path):
    rows = matrix_rows(doc.read_text(encoding="utf-8"))
    assert set(rows) == set(commands()), set(rows) ^ set(commands())
    for name, cells in rows.items():
        assert cells == [cell(name, role) for role in ROLE_ORDER], name


def test_help_lists_every_command_and_has_a_line_for_each_in_every_language():
    everything = set(Role)
    listed = [name for _, names in help_sections(everything, set(commands())) for name in names]
    assert sorted(listed) == sorted(commands())
    for lang in i18n.LANGUAGES:
        lines = {key.removeprefix("help.cmd.") for key in i18n.catalog(lang) if key.startswith("help.cmd.")}
        assert lines == set(commands()), (lang, lines ^ set(commands()))


def test_the_readme_command_reference_gives_each_command_its_options_and_who_may_run_it():
    seen: dict[str, str] = {}
    for command_cell, who in reference_rows(README.read_text(encoding="utf-8")):
        spans = SPAN.findall(command_cell)
        assert spans, f"no command in {command_cell!r}"
        for span in spans:
            named, rest = resolve(span)
            for name in named:
                assert name in commands(), f"`{span}` names the group /{name}, not a command"
                assert name not in seen, f"/{name} is in the reference twice: `{seen[name]}`, `{span}`"
                seen[name] = span
                written = [(m[1], False) if (m := OPTIONAL.match(w)) else (w, True) for w in rest]
                assert written == options(name), f"`{span}`: /{name} takes {options(name)}"
                check_who(name, who)
    missing = sorted(set(commands()) - set(seen))
    assert not missing, f"not in the README's command reference: {missing}"


@pytest.mark.parametrize("doc", [README, *DOCS], ids=lambda p: p.name)
def test_every_command_a_doc_mentions_exists_with_the_options_it_names(doc: Path):
    text = doc.read_text(encoding="utf-8")
    for mention in mentions(text):
        check_mention(mention)
    for command_cell, who in reference_rows(text):
        for span in SPAN.findall(command_cell):
            for name in resolve(span)[0]:
                check_who(name, who)


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_command_a_message_mentions_exists(lang: str):
    for key, message in i18n.catalog(lang).items():
        texts = message.texts() if isinstance(message, i18n.Plural) else [message]
        for text in texts:
            for mention in catalog_mentions(text):
                try:
                    check_mention(mention)
                except Unknown as error:
                    raise AssertionError(f"{lang}: {key}: {error}") from None


def test_only_microvoice_is_hidden_by_default_and_only_moderators_run_it():
    """docs/permissions.md: `/microvoice` is shown by default to Manage Server only; every other
    command is shown to everyone and checked server-side."""
    hidden = {
        d.root.name: d.root.default_permissions
        for d in commands().values()
        if d.root.default_permissions is not None
    }
    assert hidden == {"microvoice": Permissions(manage_guild=True)}
    for name, defined in commands().items():
        if defined.root.name == "microvoice":
            assert MATRIX[name] == {Role.MODERATOR}, name


def test_every_command_and_option_describes_itself():
    """Discord shows these in the command picker; discord.py's default is an ellipsis."""
    for name, defined in commands().items():
        assert defined.command.description not in ("", "…"), name
        for parameter in defined.command.parameters:
            assert parameter.description not in ("", "…"), (name, parameter.display_name)


def test_mentions_are_checked():
    """The checks above refuse what they should: the wrong option, command or group."""
    check_mention("/voices top [topic] days:30")
    check_mention("/brand approve\\|suspend\\|remove brand")
    check_mention("/activation create …")
    for wrong in (
        "/link reddit name",
        "/voices override @someone",
        "/voices nonesuch",
        "/nonesuch",
        "/activation create qa|nonesuch brand",
    ):
        with pytest.raises(Unknown):
            check_mention(wrong)
    assert documented_roles("moderators, brand managers (own brands)") == {Role.MODERATOR, Role.BRAND_MANAGER}
    assert documented_roles("the brand's managers (moderators hide questions instead)") == {
        Role.BRAND_MANAGER
    }
