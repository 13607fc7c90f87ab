"""sites/tenant.yaml: the tenant's facts (platform, licences, packages) and settings."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from schema.fields import Count, FeatureCode, PlatformVersion, ShortText, TenantName, version_tuple
from schema.state import TenantFacts


class Licences(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    shared_lines: Count = 0
    shared_licensing: StrictBool = False


class Safety(BaseModel):
    """How much a plan may destroy before apply wants --force (octoDNS's UnsafePlan)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_delete_percent: Annotated[float, Field(ge=0, le=100)] = 30.0
    min_resources: Count = 10


class SiteSettings(BaseModel):
    """The optional `site:` mapping of a site's files: ownership and safety for the site."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Delete resources of this site that exist in the tenant but were never managed.
    prune: StrictBool = False
    # Numbers or glob patterns ("09*") this tool never touches in this site.
    ignore: list[ShortText] = Field(default_factory=list)
    safety: Safety | None = None


class TenantSettings(BaseModel):
    """Facts about the tenant that rules depend on; they must match the live tenant."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant: TenantName
    platform_version: PlatformVersion
    licences: Licences = Field(default_factory=Licences)
    # User pack name -> seats owned. Listed in upgrade order (cheapest first).
    packages: dict[ShortText, Count] = Field(default_factory=dict)
    # Feature code name -> code, as set in this customer's portal (they differ per
    # customer, so none are assumed). Extensions must not collide with them.
    feature_codes: dict[ShortText, FeatureCode] = Field(default_factory=dict)
    safety: Safety = Field(default_factory=Safety)

    def package_rank(self, package: str) -> int | None:
        """Position in the upgrade order: later packages include earlier ones' features."""
        names = list(self.packages)
        return names.index(package) if package in self.packages else None

    def platform_at_least(self, version: str) -> bool:
        return version_tuple(self.platform_version) >= version_tuple(version)


def declared_facts(settings: TenantSettings) -> TenantFacts:
    """The facts tenant.yaml states, in the form a live tenant reports them."""
    return TenantFacts(
        platform_version=settings.platform_version,
        shared_line_licences=settings.licences.shared_lines,
        shared_licensing=settings.licences.shared_licensing,
        packages=dict(settings.packages),
    )
