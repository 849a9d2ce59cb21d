"""Time shapes of a discharge: the pump envelope and slow, bounded wander.

The envelope is the pump's share of full rate (0 idle, 1 at full rate) over the reading grid: idle, start
ramp, steady, an optional short stop in the middle, steady, ramp down, idle. Wander is a sum of a few slow
sinusoids with seeded periods and phases, so it is smooth, bounded and cheap to evaluate for millions of
points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

PAUSE_RAMP_DOWN_S = 30.0
"""Pump run-down before the mid-discharge stop."""
PAUSE_RAMP_UP_S = 60.0
"""Pump restart ramp after the mid-discharge stop."""
MIN_STABLE_RATE = 0.1
"""Share of full rate a cargo pump runs at as soon as it starts, and last runs at before it stops
(minimum stable flow; the ship starts slowly to check the line-up, then ramps up)."""


@dataclass(frozen=True)
class Envelope:
    """Phases of one discharge, in seconds from the first reading.

    Attributes:
        pump_start_s: The pump starts (end of the idle head).
        ramp_up_s: Start ramp length.
        steady_s: Time at full rate, split in two halves around the pause.
        pause_s: Stop length in the middle (0 for none).
        ramp_down_s: Final ramp length.
        idle_after_s: Idle tail after the ramp down.
    """

    pump_start_s: float
    ramp_up_s: float
    steady_s: float
    pause_s: float
    ramp_down_s: float
    idle_after_s: float

    @property
    def pause_total_s(self) -> float:
        """Length of the pause including its run-down and restart ramps (0 without a pause)."""
        return self.pause_s + PAUSE_RAMP_DOWN_S + PAUSE_RAMP_UP_S if self.pause_s > 0 else 0.0

    @property
    def pump_stop_s(self) -> float:
        """End of the final ramp down."""
        return self.pump_start_s + self.ramp_up_s + self.steady_s + self.pause_total_s + self.ramp_down_s

    @property
    def duration_s(self) -> float:
        """Whole simulated span, idle head and tail included."""
        return self.pump_stop_s + self.idle_after_s

    def full_rate_equivalent_s(self) -> float:
        """Seconds at full rate that deliver the same volume as the whole envelope."""
        floored = (1.0 + MIN_STABLE_RATE) / 2  # a ramp from the minimum stable rate delivers this share
        pause_ramps = PAUSE_RAMP_DOWN_S / 2 + PAUSE_RAMP_UP_S * floored if self.pause_s > 0 else 0.0
        return self.steady_s + (self.ramp_up_s + self.ramp_down_s) * floored + pause_ramps

    @property
    def steady_windows_s(self) -> tuple[tuple[float, float], ...]:
        """The stretches at full rate (one or two, around the pause)."""
        a = self.pump_start_s + self.ramp_up_s
        half = self.steady_s / 2
        if self.pause_s <= 0:
            return ((a, a + self.steady_s),)
        b = a + half + self.pause_total_s
        return ((a, a + half), (b, b + half))

    def at(self, t_s: FloatArray) -> FloatArray:
        """Pump share of full rate at each time (0…1).

        Args:
            t_s: Seconds from the first reading.

        Returns:
            The envelope value per time.
        """
        out = _start(t_s, self.pump_start_s, self.ramp_up_s)
        if self.pause_s > 0:
            p0 = self.pump_start_s + self.ramp_up_s + self.steady_s / 2
            p1 = p0 + PAUSE_RAMP_DOWN_S + self.pause_s
            out = out * (1.0 - _rise(t_s, p0, PAUSE_RAMP_DOWN_S)) + _start(t_s, p1, PAUSE_RAMP_UP_S)
        down0 = self.pump_stop_s - self.ramp_down_s
        stop = np.where(
            t_s < self.pump_stop_s, 1.0 - (1.0 - MIN_STABLE_RATE) * _rise(t_s, down0, self.ramp_down_s), 0.0
        )
        return np.clip(np.minimum(out, stop), 0.0, 1.0)


def _rise(t_s: FloatArray, t0: float, length: float) -> FloatArray:
    """Smooth 0→1 step starting at ``t0`` over ``length`` seconds (a step when length is 0)."""
    if length <= 0:
        return (t_s >= t0).astype(np.float64)
    x = np.clip((t_s - t0) / length, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * x)


def _start(t_s: FloatArray, t0: float, length: float) -> FloatArray:
    """Pump start at ``t0``: a step to the minimum stable rate, then a smooth ramp to full rate."""
    started = (t_s >= t0).astype(np.float64)
    return started * (MIN_STABLE_RATE + (1.0 - MIN_STABLE_RATE) * _rise(t_s, t0, length))


@dataclass(frozen=True)
class Wander:
    """Slow, smooth, bounded wander: a sum of sinusoids with seeded periods, phases and weights.

    Attributes:
        periods_s: Period of each sinusoid.
        phases: Phase of each sinusoid, radians.
        weights: Amplitude of each sinusoid; their sum bounds the wander.
    """

    periods_s: tuple[float, ...]
    phases: tuple[float, ...]
    weights: tuple[float, ...]

    @classmethod
    def draw(cls, rng: np.random.Generator, amplitude: float, periods_s: tuple[float, float], terms: int = 4) -> Wander:
        """Draw a wander bounded by ``amplitude`` with periods inside ``periods_s``.

        Args:
            rng: The seeded generator.
            amplitude: Bound of the result: ``|wander| <= amplitude``.
            periods_s: Range of the sinusoids' periods, seconds.
            terms: Number of sinusoids.

        Returns:
            The wander.
        """
        periods = rng.uniform(periods_s[0], periods_s[1], terms)
        phases = rng.uniform(0.0, 2 * np.pi, terms)
        weights = rng.uniform(0.5, 1.0, terms)
        weights = weights / weights.sum() * amplitude
        return cls(tuple(periods.tolist()), tuple(phases.tolist()), tuple(weights.tolist()))

    def at(self, t_s: FloatArray) -> FloatArray:
        """The wander at each time."""
        out = np.zeros_like(t_s)
        for w, period, phase in zip(self.weights, self.periods_s, self.phases, strict=True):
            out += w * np.sin(2 * np.pi * t_s / period + phase)
        return out


def bounded_noise(rng: np.random.Generator, n: int, sigma: float, bound: float) -> FloatArray:
    """White Gaussian noise clipped to ``±bound`` (an instrument's stated noise band)."""
    return np.clip(rng.normal(0.0, sigma, n), -bound, bound)
