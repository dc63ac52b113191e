#!/usr/bin/env python3
"""Checks that the text of an old README survives in the README and docs/*.md.

Usage: tools/docs/check_moved.py OLD_README [--root DIR]
  e.g. git show 804ad3b:README.md > /tmp/old-README.md && tools/docs/check_moved.py /tmp/old-README.md

The old README is cut into units: each paragraph, each list item, each table row and each fenced code
block. A unit is found when its text (whitespace collapsed, link targets and heading marks dropped)
occurs in the new files; otherwise the closest passage is printed with its similarity, so an edit made
on purpose can be told from text that was lost. Exit 1 when a unit is not found.
"""
import difflib, glob, os, re, sys

def norm(s):
    s = re.sub(r'\[([^\]]*)\]\([^)\s]*\)', r'\1', s)      # [text](target) -> text
    s = re.sub(r'(?m)^#+ ', '', s)                        # heading marks
    return re.sub(r'\s+', ' ', s).strip()

def units(text):
    out, block, inf = [], [], False
    def flush():
        if block:
            out.append('\n'.join(block)); block.clear()
    for l in text.split('\n'):
        if l.startswith('```'):
            if inf:
                block.append(l); flush(); inf = False
            else:
                flush(); block.append(l); inf = True
            continue
        if inf:
            block.append(l); continue
        if not l.strip():
            flush(); continue
        if l.startswith('|') or re.match(r'\s*([-*]|\d+\.) ', l) or l.startswith('#'):
            flush()
        block.append(l)
        if l.startswith('|') or l.startswith('#'):
            flush()
    flush()
    return [u for u in out if not re.fullmatch(r'\|[ :|-]*\|', u.strip())]

def main():
    args = sys.argv[1:]
    root = '.'
    if '--root' in args:
        i = args.index('--root'); root = args[i + 1]; del args[i:i + 2]
    old = open(args[0], encoding='utf-8').read()
    new_files = [os.path.join(root, 'README.md')] + sorted(glob.glob(os.path.join(root, 'docs', '*.md')))
    new = ' \n '.join(norm(open(f, encoding='utf-8').read()) for f in new_files)
    lost = 0
    for u in units(old):
        n = norm(u)
        if not n or n in new:
            continue
        lost += 1
        sm = difflib.SequenceMatcher(None, new, n, autojunk=False)
        m = sm.find_longest_match(0, len(new), 0, len(n))
        start = max(0, m.a - m.b)
        near = new[start:start + len(n) + 40]
        ratio = difflib.SequenceMatcher(None, near, n, autojunk=False).ratio()
        print(f'--- not found (closest {ratio:.2f}):\n  old: {n[:300]}\n  new: {near[:300]}\n')
    print(f'{lost} of {len(units(old))} units not found verbatim')
    return 1 if lost else 0

if __name__ == '__main__':
    sys.exit(main())
