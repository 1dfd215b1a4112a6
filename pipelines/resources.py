"""lmkpi's settings as a Dagster resource (see Dagster University, dagster_and_dbt lesson 6).

``LmkpiSettings`` is built from ``lmkpi.settings`` when a run starts (the environment at that
moment, so the UI, a schedule and ``lmkpi load`` see the same configuration); its fields
override what the environment says, which is how ``lmkpi load`` and the tests hand a run
their home folder and demo mode without touching ``os.environ``.
"""

import dagster as dg

from lmkpi.permissions import private_umask
from lmkpi.settings import Settings


class LmkpiSettings(dg.ConfigurableResource):
    """Where lmkpi keeps its state, and how it is configured (``lmkpi.settings.Settings``)."""

    home: str | None = None  # default: LMKPI_HOME
    demo: bool | None = None  # default: LMKPI_DEMO

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Everything the run (and the dbt it starts) creates is the owner's only; what is
        # published is opened to the publish group explicitly (lmkpi.permissions).
        private_umask()

    def get(self) -> Settings:
        overrides = {"home": self.home, "demo": self.demo}
        return Settings.from_env(**{k: v for k, v in overrides.items() if v is not None})

    @classmethod
    def of(cls, settings: Settings) -> "LmkpiSettings":
        return cls(home=str(settings.home), demo=settings.demo)
