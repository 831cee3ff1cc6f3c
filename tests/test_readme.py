"""The maps of the story scripts (docs/reading_the_*.md):
each row's line range must hold every piece of code its middle column names, so that a map fails
a test when its script moves."""
import os
import re

import pytest
from helpers import CDCGAN, CGAN, DCGAN, ROOT, SCRIPT


def reading_map(document, section):
    """(first, last, [code named]) for each row of the section's line map."""
    with open(os.path.join(ROOT, document), encoding='utf-8') as f:
        readme = f.read()
    text = readme[readme.index(section):]
    text = text[:text.find('\n#', 1)]
    return [(int(row[1]), int(row[2]), re.findall(r'`([^`]+)`', row[3]))
            for row in re.finditer(r'^\| (\d+)-(\d+) \| (.*?) \| .* \|$', text, re.MULTILINE)]


@pytest.mark.parametrize('document, section, script, rows_at_least', [
    ('docs/reading_the_gan.md', '# Reading the script', SCRIPT, 15),
    ('docs/reading_the_dcgan.md', '# Reading the DCGAN script', DCGAN, 10),
    ('docs/reading_the_cgan.md', '# Reading the cGAN script', CGAN, 10),
    ('docs/reading_the_cdcgan.md', '# Reading the cDCGAN script', CDCGAN, 10)])
def test_each_row_of_the_reading_map_holds_what_it_names(document, section, script, rows_at_least):
    with open(script, encoding='utf-8') as f:
        lines = f.read().splitlines()
    rows = reading_map(document, section)
    assert len(rows) >= rows_at_least
    assert all(names for _, _, names in rows)
    assert [first for first, _, _ in rows] == sorted(first for first, _, _ in rows)
    for first, last, names in rows:
        held = '\n'.join(lines[first - 1:last])
        missing = [name for name in names if name not in held]
        assert not missing, f'{document}: lines {first}-{last} of {os.path.basename(script)} do not hold {missing}'
