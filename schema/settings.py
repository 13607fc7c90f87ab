"""sites/tenant.yaml: the tenant's facts (platform, licences, packages) and settings."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from schema.fields import Count, FeatureCode, PlatformVersion, ShortText, TenantName, version_tuple
from schema.list_download_settings import ListDownloadSettings
from schema.state import TenantFacts


class Licences(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True, frozen=True)

    shared_lines: Count = Field(0, description="Shared-line licences owned (the Shared "
                                               "Line List's licence count).", examples=[20])
    shared_licensing: StrictBool = Field(
        False, description="iPECS Shared licensing: lets hot desk users join shared lines "
                           "(platform 6.0+).", examples=[True])


class Safety(BaseModel):
    """How much a plan may destroy before apply wants --force (octoDNS's UnsafePlan)."""

    model_config = ConfigDict(extra="forbid", defer_build=True, frozen=True)

    max_delete_percent: Annotated[float, Field(ge=0, le=100)] = Field(
        30.0, description="A plan deleting more than this share of a site's resources of "
                          "a kind needs --force.", examples=[30])
    min_resources: Count = Field(10, description="Sites with fewer resources of a kind are "
                                                 "not held to the percentage (emptying a kind "
                                                 "always needs --force).", examples=[10])


class SiteSettings(BaseModel):
    """The optional `site:` mapping of a site's files: ownership and safety for the site."""

    model_config = ConfigDict(extra="forbid", defer_build=True, frozen=True)

    # Delete resources of this site that exist in the tenant but were never managed.
    prune: StrictBool = Field(False, description="Delete this site's resources made by hand "
                                                 "(unmanaged) that the config does not "
                                                 "declare.", examples=[False])
    # Numbers or glob patterns ("09*") this tool never touches in this site.
    ignore: list[ShortText] = Field(default_factory=list,
                                    description="Numbers or glob patterns this tool never "
                                                "touches in this site.",
                                    examples=[["09*", "1234"]])
    safety: Safety | None = Field(None, description="This site's safety rails, instead of "
                                                    "tenant.yaml's.",
                                  examples=[{"max_delete_percent": 50}])


class TenantSettings(BaseModel):
    """Facts about the tenant that rules depend on; they must match the live tenant."""

    model_config = ConfigDict(extra="forbid", defer_build=True, frozen=True)

    tenant: TenantName = Field(description="Whose tenant this is: the tenant records it, "
                                           "and refuses a config for another.",
                               examples=["Example Tenant"])
    platform_version: PlatformVersion = Field(
        description="The tenant's iPECS Cloud platform version, quoted.", examples=["6.0"])
    licences: Licences = Field(default_factory=Licences, description="Licences owned.",
                               examples=[{"shared_lines": 20, "shared_licensing": True}])
    # User pack name -> seats owned. Listed in upgrade order (cheapest first).
    packages: dict[ShortText, Count] = Field(
        default_factory=dict, description="User pack name -> seats owned, in upgrade order "
                                          "(cheapest first).",
        examples=[{"Empty User Pack": 27}])
    # Feature code name -> code, as set in this customer's portal (they differ per
    # customer, so none are assumed). Extensions must not collide with them.
    feature_codes: dict[ShortText, FeatureCode] = Field(
        default_factory=dict, description="Feature code name -> code, as set in this "
                                          "customer's portal; no extension may collide.",
        examples=[{"voicemail": "598"}])
    safety: Safety = Field(default_factory=Safety,
                           description="Safety rails for every site (a site may set its own).",
                           examples=[{"max_delete_percent": 30, "min_resources": 10}])
    list_download: ListDownloadSettings = Field(
        default_factory=ListDownloadSettings,
        description="How to read the portal's User Setup List Download file "
                    "(--tenant list-download:///FILE): its column headers and sheet.",
        examples=[{"columns": {"email": "Email Address"}, "extension_digits": 4}])

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
