#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""tests/lib/checklint.py [DIR] - find shell checks that assert less than they say.

tap.sh's `check NAME CMD...` runs one command. In `check NAME [ a ] && [ b ]` the shell makes
`check NAME [ a ]` the command and runs `[ b ]` after `ok` was printed: only `a` is asserted.
Each `check` line (with its continuation lines) of every *.sh under DIR (default: tests/) is
split as the shell splits it; a control operator outside quotes (&&, ||, ;, |, &) after the
name is such a check. Write `check NAME eval '[ a ] && [ b ]'` or a function instead.
Prints FILE:LINE: TEXT for each, exits 1 if there is any.
"""
import pathlib
import re
import shlex
import sys

OPERATORS = {'&&', '||', ';', '|', '&', ';;', '|&'}


def split(line):
    lex = shlex.shlex(line, posix=True, punctuation_chars=True)
    lex.commenters = '#'
    lex.whitespace_split = True
    return list(lex)


def commands(text):
    """(first line number, text, words) of each `check` command: its backslash continuations
    and the lines a quoted string spans joined, as the shell reads them."""
    lines = text.split('\n')
    i = 0
    while i < len(lines):
        start, line = i, lines[i]
        i += 1
        if not re.match(r'\s*check\s', line):
            continue
        while True:
            if line.endswith('\\') and i < len(lines):
                line = line[:-1] + ' ' + lines[i]
                i += 1
                continue
            try:
                words = split(line)
            except ValueError:     # a quoted string goes on: read on, as the shell does
                if i < len(lines):
                    line += '\n' + lines[i]
                    i += 1
                    continue
                words = None
            break
        yield start + 1, line, words


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else 'tests')
    bad = 0
    for path in sorted(root.rglob('*.sh')):
        for n, line, words in commands(path.read_text(errors='replace')):
            if words is None:
                print(f'{path}:{n}: a quotation that never closes: {line.strip()}')
                bad += 1
            elif OPERATORS & set(words):
                print(f'{path}:{n}: {" ".join(line.split())}')
                bad += 1
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
