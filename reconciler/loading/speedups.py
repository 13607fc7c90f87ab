"""What makes loading fast, behind one small interface the loader is handed.

The loader (`config_loading`) reads a file and returns located, validated resources.
Two things make that fast without changing what it returns:

- the fast events loader (`yaml_events`): located data straight from libyaml's events
  for the common subset of YAML, giving up to the exact loader otherwise;
- the cache of validated site files (`site_file_cache`): a file whose bytes loaded
  cleanly before is recalled, not parsed and validated again.

Both plug in here and nowhere else, so a reader of the loader can skip them and a test
can run without them: `Speedups.none()` parses every file with the exact loader and
recalls and keeps nothing. Two paths for one job are held equal by property tests
(`tests/test_property_yaml_events.py` for the events loader, `tests/test_property_cache.py`
for the whole loader with and without either).
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.loading.site_file_cache import CachedSiteFile, ItemPath, SiteFileCache
from reconciler.loading.yaml_events import StyleWatch
from reconciler.loading.yaml_reading import ReadResult, parse_content
from schema.declarations import Declared, DeclaredSite


@dataclass(frozen=True, slots=True)
class Speedups:
    """`cache`: validated site files by content (plan and validate; never apply, which
    reads the files themselves). `fast_yaml`: the events loader first."""

    cache: SiteFileCache | None = None
    fast_yaml: bool = True

    @classmethod
    def none(cls) -> Speedups:
        """The loader alone: the exact YAML loader, no cache."""
        return cls(None, fast_yaml=False)

    def parse(self, content: bytes, shown: str, watch: StyleWatch | None = None
              ) -> ReadResult:
        """A file's located data, or the problems that kept it from parsing."""
        return parse_content(content, shown, watch, fast=self.fast_yaml)

    def recall(self, shown: str, site: str, content: bytes) -> CachedSiteFile | None:
        """What these bytes, at this path and site, loaded as before; None: load them."""
        return self.cache.lookup(shown, site, content) if self.cache is not None else None

    def keep(self, shown: str, site: str, content: bytes,
             found: list[tuple[Declared, ItemPath]], settings: DeclaredSite | None) -> None:
        """Remember what a file that loaded without a problem gave."""
        if self.cache is not None:
            self.cache.store(shown, site, content, found, settings)

    def whole_tree_read(self) -> None:
        """Every file of the tree was asked for: what no file asked for is stale."""
        if self.cache is not None:
            self.cache.prune()


#: What the loader is handed unless told otherwise: the events loader, no cache.
DEFAULT = Speedups()
