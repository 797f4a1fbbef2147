"""Print, as JSON, the Indico plugin names that the external plugin specs provide.

Run by the charm with the venv's Python after `pip install`, as
`python3 - <requirements file>` with this script on stdin; the file holds one spec a line
(the one pip installed from). A plugin name is an entry point of group `indico.plugins` of the
distribution a spec names: `name`, `name==1.0`, `name[extra]>=1`, `name @ <url>`, or a bare
URL/path whose installed distribution records it in `direct_url.json` (PEP 610), or an
`#egg=name` fragment. Exits 1 naming the first spec no installed distribution matches.
"""

import json
import re
import sys
from importlib.metadata import distributions

try:
    from packaging.requirements import InvalidRequirement, Requirement
except ImportError:  # the venv may lack packaging; pip always vendors it
    from pip._vendor.packaging.requirements import InvalidRequirement, Requirement

GROUP = 'indico.plugins'


def normalize(name):
    return re.sub(r'[-_.]+', '-', name).lower()


def url_key(url):
    """A URL without VCS prefix, @ref, fragment, trailing slash and .git, for comparison."""
    url = url.split('#', 1)[0]
    scheme, sep, rest = url.partition('://')
    if not sep:
        rest = scheme
    head, slash, tail = rest.rpartition('/')
    tail = tail.split('@', 1)[0]
    rest = head + slash + tail
    return rest.rstrip('/').removesuffix('.git')


def direct_url(dist):
    try:
        text = dist.read_text('direct_url.json')
        return json.loads(text).get('url') if text else None
    except (OSError, ValueError):
        return None


def main(specs):
    installed = list(distributions())
    by_name = {normalize(d.metadata['Name'] or ''): d for d in installed}
    plugins = set()
    for spec in specs:
        dist = None
        try:
            dist = by_name.get(normalize(Requirement(spec).name))
        except InvalidRequirement:
            egg = re.search(r'#egg=([A-Za-z0-9_.-]+)', spec)
            if egg:
                dist = by_name.get(normalize(egg.group(1)))
            else:
                key = url_key(spec)
                dist = next((d for d in installed if (u := direct_url(d)) and url_key(u) == key), None)
        if dist is None:
            print(f'no installed distribution matches external plugin {spec!r}', file=sys.stderr)
            return 1
        plugins.update(ep.name for ep in dist.entry_points if ep.group == GROUP)
    print(json.dumps({'plugins': sorted(plugins)}))
    return 0


def read_specs(path):
    with open(path, encoding='utf-8') as f:
        return [line.strip() for line in f if line.strip()]


if __name__ == '__main__':
    sys.exit(main(read_specs(sys.argv[1])))
