"""The README's map of the script ("Reading the script"): each row's line range must hold every
piece of code its middle column names, so that the map fails a test when the script moves."""
import os
import re

from helpers import ROOT, SCRIPT


def reading_map(section='## Reading the script'):
    """(first, last, [code named]) for each row of the section's line map."""
    with open(os.path.join(ROOT, 'README.md')) as f:
        readme = f.read()
    text = readme[readme.index(section):]
    text = text[:text.find('\n## ', 1)]
    return [(int(row[1]), int(row[2]), re.findall(r'`([^`]+)`', row[3]))
            for row in re.finditer(r'^\| (\d+)-(\d+) \| (.*?) \| .* \|$', text, re.MULTILINE)]


def test_each_row_of_the_reading_map_holds_what_it_names():
    with open(SCRIPT) as f:
        lines = f.read().splitlines()
    rows = reading_map()
    assert len(rows) >= 15
    assert all(names for _, _, names in rows)
    assert [first for first, _, _ in rows] == sorted(first for first, _, _ in rows)
    for first, last, names in rows:
        held = '\n'.join(lines[first - 1:last])
        missing = [name for name in names if name not in held]
        assert not missing, f'README: lines {first}-{last} of gan_mnist.py do not hold {missing}'
