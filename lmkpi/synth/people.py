"""The simulated persons as a struct of numpy arrays (one element per person)."""

from __future__ import annotations

import numpy as np

FIELDS: dict[str, type] = {
    # who
    "muni": np.int16,  # index into the generated municipalities
    "birth": np.int32,  # day number
    "cpr": np.int64,  # DDMMYYSSSS
    "herkomst": np.int8,  # index into params.HERKOMST
    "refugee": np.int8,  # index into params.REFUGEE_STATUS
    "opholdsdato": np.int32,  # day number, -1 = none
    "passive": np.bool_,  # joblog: rarely registers applications
    "search_rate": np.float32,  # joblog: applications per month when searching
    "samtale_phase": np.float32,  # days; offsets the conversation rhythm
    # where in the state machine
    "state": np.int16,  # state index; model.none = not in the extract
    "state_start": np.int32,
    "seg_start": np.int32,
    "t_state": np.int32,  # last day in the state
    "dest": np.int16,  # the state that follows
    # attributes of the current segment and the last day before they change
    "offer": np.int8,  # index into params.OFFERS
    "cvr": np.int32,
    "t_offer": np.int32,
    "hpw": np.float32,  # ordinary hours per week
    "omfang": np.float32,
    "delvis": np.int8,
    "t_hours": np.int32,
}


class People:
    def __init__(self) -> None:
        for name, dtype in FIELDS.items():
            setattr(self, name, np.empty(0, dtype=dtype))

    def __len__(self) -> int:
        return len(self.state)

    def add(self, n: int) -> np.ndarray:
        """Append `n` zero-initialised persons; returns their indices."""
        start = len(self)
        for name, dtype in FIELDS.items():
            setattr(self, name, np.concatenate([getattr(self, name), np.zeros(n, dtype=dtype)]))
        return np.arange(start, start + n)

    def keep(self, mask: np.ndarray) -> None:
        for name in FIELDS:
            setattr(self, name, getattr(self, name)[mask])
