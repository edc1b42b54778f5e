"""The ``twistd arakoon-kv`` plugin: see ``kvservice.py``."""

from __future__ import annotations

import kvservice
from twisted.application.service import IServiceMaker
from twisted.plugin import IPlugin
from zope.interface import implementer


@implementer(IServiceMaker, IPlugin)
class ServiceMaker:
    tapname = "arakoon-kv"
    description = "An HTTP key-value service on an Arakoon cluster."
    options = kvservice.Options

    def makeService(self, options: kvservice.Options) -> object:
        return kvservice.make_service(options)


service_maker = ServiceMaker()
