"""The operator's HTTP API and dashboard (docs/api.md).

`ApiActor` (registered as ``api``) runs an aiohttp server in its own event loop; `routes`
holds every route as data, from which the router and the OpenAPI document are built.
"""

from solo_actors.api.actor import ApiActor

__all__ = ["ApiActor"]
