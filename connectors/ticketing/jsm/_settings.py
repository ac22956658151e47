"""The settings of a Jira Service Management integration: where the site is, which desk and project.

Kept apart from the connector: they are what a tenant writes in configuration (and what
``JSMConnector.resolve_base_url`` reads), checked when the configuration loads.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sdk.parsing import Subdomain

__all__ = ["JSMSettings"]


class JSMSettings(BaseModel):
    """Which Jira Cloud site, service desk and project an integration serves."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    site: Annotated[
        Subdomain | None,
        Field(
            default=None,
            description="The Jira Cloud site: 'acme' for https://acme.atlassian.net (lower case).",
        ),
    ] = None
    cloud_id: Annotated[
        str | None,
        Field(
            default=None,
            pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
            description=(
                "The site's cloud id (a lower-case UUID, from "
                "https://api.atlassian.com/oauth/token/accessible-resources). Needed for OAuth 2.0 "
                "credentials and scoped API tokens: requests then go to "
                "https://api.atlassian.com/ex/jira/<cloud_id>."
            ),
        ),
    ] = None
    service_desk_id: Annotated[
        str,
        Field(
            pattern=r"^[1-9][0-9]{0,17}$",
            description="The service desk's id, as in the portal URL /servicedesk/customer/portal/<id>.",
        ),
    ]
    project_key: Annotated[
        str,
        Field(
            pattern=r"^[A-Z][A-Z0-9_]{1,9}$",
            description="The key of the service desk's Jira project, e.g. 'HELP' for requests HELP-123.",
        ),
    ]
    request_type_id: Annotated[
        str | None,
        Field(
            default=None,
            pattern=r"^[1-9][0-9]{0,17}$",
            description="The request type create_ticket raises (needed only with the tickets:write scope).",
        ),
    ] = None

    @model_validator(mode="after")
    def _one_root(self) -> JSMSettings:
        if self.site is None and self.cloud_id is None:
            raise ValueError("set site (email + API token) or cloud_id (OAuth 2.0, scoped API tokens)")
        return self
