#!/usr/bin/env python3
"""Write the kickstart grammar Imagesmith's linter knows (crates/engine/src/lint/kickstart-grammar.json)
from pykickstart, the reference parser Anaconda uses: for each release, its commands (kept, deprecated
or removed), each command's options (which take a value, which are required, which are deprecated),
and its sections with their options. Facts only: which words each release accepts.

Run in the venv with the pinned pykickstart (scripts/lint/ks-venv.sh makes target/ks-venv):
    target/ks-venv/bin/python scripts/lint/kickstart-grammar.py > crates/engine/src/lint/kickstart-grammar.json
"""
import json
import sys

import pykickstart
from pykickstart.base import DeprecatedCommand, RemovedCommand
from pykickstart.parser import KickstartParser
from pykickstart.version import makeVersion

RELEASES = ["RHEL8", "RHEL9", "RHEL10", "F40", "F41", "F42", "F43", "F44"]


def options(parser):
    """Option words of an argparse parser: all, those taking a value, required, deprecated."""
    words, valued, required, deprecated = set(), set(), set(), set()
    for action in parser._actions:
        names = [o for o in action.option_strings if o.startswith("--") or o.startswith("-")]
        if not names or "-h" in names or "--help" in names:
            continue
        words.update(names)
        if action.nargs not in (0, "?", "*"):
            valued.update(names)
        if action.required:
            required.add(names[0])
        if getattr(action, "deprecated", False):
            deprecated.update(names)
    return {
        "options": sorted(words),
        "valued": sorted(valued),
        "required": sorted(required),
        "deprecated": sorted(deprecated),
    }


def positionals(parser):
    """The positional arguments a command requires: the least number of words, and whether a
    required list (nargs "*") makes it need at least one word of any kind."""
    least, some = 0, False
    for action in parser._actions:
        if action.option_strings or not action.required:
            continue
        if isinstance(action.nargs, int):
            least += action.nargs
        elif action.nargs in (None, "+"):
            least += 1
        elif action.nargs == "*":
            some = True
    return {"positional": least, "needs_words": some}


def main():
    classes = {}
    versions = {}
    for release in RELEASES:
        handler = makeVersion(release)
        commands = {}
        for name, cmd in sorted(handler.commands.items()):
            cls = type(cmd).__name__
            if cls not in classes:
                if isinstance(cmd, RemovedCommand):
                    entry = {"state": "removed"}
                else:
                    entry = {"state": "deprecated" if isinstance(cmd, DeprecatedCommand) else "ok"}
                    entry.update(options(cmd._getParser()))
                    # Commands that make a list of things (part, network, user…) may be given
                    # many times; the others once (a second one overrides the first).
                    entry["multi"] = cmd.dataList() is not None
                    # Words besides options the command needs: how many at least, and whether it
                    # needs some word at all (keyboard, timezone: a layout or an option).
                    entry.update(positionals(cmd._getParser()))
                    # Commands that cannot be used with this one (autopart with part…).
                    entry["conflicts"] = sorted(getattr(cmd, "conflictingCommands", []))
                classes[cls] = entry
            commands[name] = cls
        parser = KickstartParser(handler)
        sections = {}
        for name, section in sorted(parser._sections.items()):
            try:
                sections[name] = options(section._getParser())
            except AttributeError:
                sections[name] = None  # takes any header words (%addon NAME …)
        versions[release] = {"commands": commands, "sections": sections}
    json.dump({"source": f"pykickstart {pykickstart.__version__ if hasattr(pykickstart, '__version__') else ''}".strip(),
               "classes": classes, "versions": versions}, sys.stdout, indent=None, sort_keys=True, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
