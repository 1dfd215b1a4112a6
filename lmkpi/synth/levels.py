"""Target levels: full-time persons per municipality and state, month by month.

Lyngby-Taarbæk (173) takes its levels from the plan (`fte_173`).  Every other municipality
gets the national level per inhabitant 16-66, raised or lowered with its public-benefit
share (`municipality_profile.csv`) to the power of the state's `elasticity`, times a fixed
random factor; the public-benefit states are then rescaled so that they add up to the
municipality's share.  Levels change by `growth` a year and by a yearly `season` cosine.
"""

from __future__ import annotations

import numpy as np

from .months import month_index
from .params import Model, Municipalities


class Levels:
    def __init__(
        self,
        model: Model,
        munis: Municipalities,
        selected: np.ndarray,
        scales: np.ndarray,
        public: np.ndarray,
    ) -> None:
        self.season = model.season
        self.t_ref = month_index(model.general["reference_month"])
        g = model.general
        # fixed, not the run's seed: municipalities keep their character across seeds
        prng = np.random.default_rng(g["profile_seed"])
        z = prng.standard_normal((len(munis.code), model.n))
        zg = prng.standard_normal((len(munis.code), model.n))
        nat_pop = munis.population_16_66.sum()
        nat_share = (munis.benefit_share * munis.population_16_66).sum() / nat_pop
        burden = munis.benefit_share / nat_share
        sigma = g["profile_sigma"]
        rate = (
            (model.fte_national / nat_pop)[None, :]
            * burden[:, None] ** model.elasticity[None, :]
            * np.exp(sigma * z - sigma**2 / 2)
        )
        rate[:, ~model.controlled] = 0.0
        pub = model.controlled & public
        rate[:, pub] *= (munis.benefit_share / rate[:, pub].sum(axis=1))[:, None]
        level = rate * munis.population_16_66[:, None]
        growth = model.growth[None, :] + g["growth_sigma"] * zg
        lyngby = munis.code == 173
        level[lyngby] = model.fte_173
        growth[lyngby] = model.growth
        self.level = level[selected] * scales[:, None]
        self.growth = growth[selected]

    def at(self, t: float) -> np.ndarray:
        """Persons per (municipality, state) at month position `t` (a month index; t = m is
        the first day of month m, t = m + 0.5 its middle)."""
        years = (t - self.t_ref) / 12.0
        season = 1 + self.season * np.cos(2 * np.pi * ((t % 12) - 0.5) / 12)
        return self.level * (1 + self.growth) ** years * season[None, :]
