"""Works out again what the gallery stores to compare and sort on (listed, filter keys,
search words, score, sunk, held, needs review) for every publication, and writes it where
it differs (Gallery.reindex): after a change to how those are worked out
(infra.domain.publication), or for publications stored before one existed.
Run once after such a deploy, with the site's settings (its Firestore project, or the data
folder): `python -m infra.gallery_reindex`. Safe beside the running site, and to run again."""

from __future__ import annotations

import sys

from infra.bootstrap import bootstrap
from infra.settings import ConfigurationError


def main() -> int:
    try:
        adapters = bootstrap()
    except ConfigurationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    written = adapters.gallery.reindex()
    print(f"{written} publication(s) written again")
    return 0


if __name__ == "__main__":
    sys.exit(main())
