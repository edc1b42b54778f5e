"""A small HTTP key-value service on an Arakoon cluster: a complete ``twistd``
application. ``GET /KEY`` answers the value (404 when not bound), ``PUT /KEY``
binds the request's body, ``DELETE /KEY`` unbinds it.

Run it (its plugin is ``twisted/plugins/arakoon_kv.py`` beside this file)::

    PYTHONPATH=docs/examples/twistd twistd -n arakoon-kv --port 8080 \\
        --arakoon-nodes "$TXARAKOON_NODES"

The cluster client is one of the application's services: twistd starts it
with the application, and on SIGTERM stops it (failing any call still
pending) before the process exits.
"""

from __future__ import annotations

from typing import Any, ClassVar

from twisted.application import service, strports
from twisted.internet.defer import Deferred
from twisted.web import resource, server

from txarakoon import ArakoonClient
from txarakoon.errors import NotFound
from txarakoon.service import ArakoonOptions


class Options(ArakoonOptions):
    """The service's own options beside the cluster's (``--arakoon-*``)."""

    optParameters: ClassVar[list[list[Any]]] = [
        ["port", "p", "8080", "the TCP port to serve HTTP on"],
        ["interface", None, "127.0.0.1", "the address to serve HTTP on"],
    ]


class Keys(resource.Resource):
    """Every path is a key."""

    isLeaf = True

    def __init__(self, client: ArakoonClient) -> None:
        super().__init__()
        self.client = client

    def render_GET(self, request: Any) -> Any:
        return self._answer(request, self.client.get(request.path[1:]))

    def render_PUT(self, request: Any) -> Any:
        done = self.client.set(request.path[1:], request.content.read())
        return self._answer(request, done.addCallback(lambda _: b"ok\n"))

    def render_DELETE(self, request: Any) -> Any:
        done = self.client.delete(request.path[1:])
        return self._answer(request, done.addCallback(lambda _: b"ok\n"))

    def _answer(self, request: Any, result: Deferred[bytes]) -> Any:
        def written(body: bytes) -> None:
            request.write(body)
            request.finish()

        def failed(failure: Any) -> None:
            request.setResponseCode(404 if failure.check(NotFound) else 503)
            request.write(f"{failure.getErrorMessage()}\n".encode())
            request.finish()

        result.addCallbacks(written, failed)
        return server.NOT_DONE_YET


def make_service(options: Options) -> service.IService:
    from twisted.internet import reactor

    top = service.MultiService()
    client = ArakoonClient(options.cluster_config, reactor)
    client.setServiceParent(top)
    site = server.Site(Keys(client))
    endpoint = f"tcp:{options['port']}:interface={options['interface']}"
    strports.service(endpoint, site).setServiceParent(top)
    return top
