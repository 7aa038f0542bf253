"""Probability distributions of durations (service times, startup phases, key-manager latency).

A distribution is a small immutable value: it knows its parameters, its exact mean, how to draw from a
`numpy.random.Generator` (only through the generator's own methods, so a named stream fully determines
the draws), and how to write itself back as a scenario mapping (`to_spec`) that `parse_dist` turns into
an equal distribution. Scenario files write them as a duration (a constant) or as a mapping:

    {dist: constant, value: 2s}
    {dist: exponential, mean: 2s}
    {dist: uniform, low: 1s, high: 3s}
    {dist: lognormal, median: 1s, p99: 6s}     or {dist: lognormal, mean: 1s, cv: 0.8}
                                               or {dist: lognormal, mu: -0.5, sigma: 0.7} (of log-seconds)
    {dist: gamma, mean: 1s, cv: 0.5}
    {dist: empirical, values: [0.8s, 1.1s]}    or {dist: empirical, file: samples.csv}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from statistics import NormalDist

import numpy as np

from sim.units import InputError, format_duration as _d, format_number, parse_duration, show_value
from sim.userfile import SAMPLES_LIMIT, UserFileError, read_user_text

__all__ = [
    "Dist", "Constant", "Exponential", "Uniform", "LogNormal", "Gamma", "Empirical",
    "parse_dist", "DIST_NAMES", "Z99",
]

Z99 = NormalDist().inv_cdf(0.99)  # standard normal 99th percentile, 2.3263...


class Dist:
    """Base of all distributions: immutable, compared and hashed by type and parameters."""

    __slots__ = ()
    name = "?"

    def _key(self) -> tuple:
        raise NotImplementedError

    def __setattr__(self, attr, value):
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other):
        return type(other) is type(self) and self._key() == other._key()

    def __hash__(self):
        return hash((type(self).__name__, self._key()))

    def __reduce__(self):
        # pickling (worker processes) and deepcopy rebuild through _restore, since __setattr__ refuses
        slots = [s for cls in type(self).__mro__ for s in getattr(cls, "__slots__", ())]
        return _restore, (type(self), {s: getattr(self, s) for s in slots})

    def __repr__(self):
        args = ", ".join(f"{k}={format_number(v)}" for k, v in self.to_spec().items() if k != "dist")
        return f"{type(self).__name__}({args})"

    @property
    def mean(self) -> float:
        raise NotImplementedError

    def sample(self, rng: np.random.Generator) -> float:
        raise NotImplementedError

    def sample_many(self, rng: np.random.Generator, n: int) -> np.ndarray:
        raise NotImplementedError

    def to_spec(self) -> dict:
        raise NotImplementedError


def _restore(cls, values: dict) -> Dist:
    obj = object.__new__(cls)
    _init(obj, **values)
    return obj


def _init(obj, **values):
    for attr, value in values.items():
        object.__setattr__(obj, attr, value)


def _check(ok: bool, message: str, key: str | None = None):
    if not ok:
        raise InputError(message, key)


class Constant(Dist):
    """Always the same value; draws consume no random numbers."""

    __slots__ = ("value",)
    name = "constant"

    def __init__(self, value: float):
        value = float(value)
        _check(math.isfinite(value) and value >= 0, f"must not be negative, got {_d(value)}", "value")
        _init(self, value=value)

    def _key(self):
        return (self.value,)

    @property
    def mean(self):
        return self.value

    def sample(self, rng):
        return self.value

    def sample_many(self, rng, n):
        return np.full(n, self.value)

    def to_spec(self):
        return {"dist": "constant", "value": self.value}


class Exponential(Dist):
    """Memoryless durations with the given mean."""

    __slots__ = ("mean_",)
    name = "exponential"

    def __init__(self, mean: float):
        mean = float(mean)
        _check(math.isfinite(mean) and mean > 0, f"must be greater than 0, got {_d(mean)}", "mean")
        _init(self, mean_=mean)

    def _key(self):
        return (self.mean_,)

    @property
    def mean(self):
        return self.mean_

    def sample(self, rng):
        return float(rng.exponential(self.mean_))

    def sample_many(self, rng, n):
        return rng.exponential(self.mean_, n)

    def to_spec(self):
        return {"dist": "exponential", "mean": self.mean_}


class Uniform(Dist):
    """Uniform between low and high (low <= high)."""

    __slots__ = ("low", "high")
    name = "uniform"

    def __init__(self, low: float, high: float):
        low, high = float(low), float(high)
        _check(math.isfinite(low) and low >= 0, f"must not be negative, got {_d(low)}", "low")
        _check(math.isfinite(high) and high >= low,
               f"must be at least low ({_d(low)}), got {_d(high)}", "high")
        _init(self, low=low, high=high)

    def _key(self):
        return (self.low, self.high)

    @property
    def mean(self):
        return (self.low + self.high) / 2

    def sample(self, rng):
        return float(rng.uniform(self.low, self.high))

    def sample_many(self, rng, n):
        return rng.uniform(self.low, self.high, n)

    def to_spec(self):
        return {"dist": "uniform", "low": self.low, "high": self.high}


class LogNormal(Dist):
    """exp(Normal(mu, sigma)) seconds. Build it from (median, p99), (mean, cv) or (mu, sigma).

    The form it was built from is kept so that `to_spec` writes back the same numbers and the round trip
    gives bit-identical mu and sigma; equality looks only at (mu, sigma).
    """

    __slots__ = ("mu", "sigma", "_form")
    name = "lognormal"

    def __init__(self, mu: float, sigma: float):
        mu, sigma = float(mu), float(sigma)
        _check(math.isfinite(mu), f"must be a finite number, got {format_number(mu)}", "mu")
        _check(math.isfinite(sigma) and sigma >= 0, f"must not be negative, got {format_number(sigma)}", "sigma")
        _init(self, mu=mu, sigma=sigma, _form={"mu": mu, "sigma": sigma})

    @classmethod
    def from_median_p99(cls, median: float, p99: float) -> LogNormal:
        median, p99 = float(median), float(p99)
        _check(math.isfinite(median) and median > 0, f"must be greater than 0, got {_d(median)}", "median")
        _check(math.isfinite(p99) and p99 > median,
               f"must be greater than the median ({_d(median)}), got {_d(p99)}", "p99")
        dist = cls(math.log(median), (math.log(p99) - math.log(median)) / Z99)
        object.__setattr__(dist, "_form", {"median": median, "p99": p99})
        return dist

    @classmethod
    def from_mean_cv(cls, mean: float, cv: float) -> LogNormal:
        mean, cv = float(mean), float(cv)
        _check(math.isfinite(mean) and mean > 0, f"must be greater than 0, got {_d(mean)}", "mean")
        _check(math.isfinite(cv) and cv > 0, f"must be greater than 0, got {format_number(cv)}", "cv")
        sigma2 = math.log1p(cv * cv)
        dist = cls(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))
        object.__setattr__(dist, "_form", {"mean": mean, "cv": cv})
        return dist

    def _key(self):
        return (self.mu, self.sigma)

    @property
    def mean(self):
        return math.exp(self.mu + self.sigma**2 / 2)

    @property
    def median(self) -> float:
        return math.exp(self.mu)

    def quantile(self, p: float) -> float:
        return math.exp(self.mu + self.sigma * NormalDist().inv_cdf(p))

    def sample(self, rng):
        return float(rng.lognormal(self.mu, self.sigma))

    def sample_many(self, rng, n):
        return rng.lognormal(self.mu, self.sigma, n)

    def to_spec(self):
        return {"dist": "lognormal", **self._form}


class Gamma(Dist):
    """Gamma durations with the given mean and coefficient of variation (shape 1/cv^2)."""

    __slots__ = ("mean_", "cv")
    name = "gamma"

    def __init__(self, mean: float, cv: float):
        mean, cv = float(mean), float(cv)
        _check(math.isfinite(mean) and mean > 0, f"must be greater than 0, got {_d(mean)}", "mean")
        _check(math.isfinite(cv) and cv > 0, f"must be greater than 0, got {format_number(cv)}", "cv")
        _init(self, mean_=mean, cv=cv)

    def _key(self):
        return (self.mean_, self.cv)

    @property
    def mean(self):
        return self.mean_

    @property
    def shape(self) -> float:
        return 1.0 / (self.cv * self.cv)

    @property
    def scale(self) -> float:
        return self.mean_ * self.cv * self.cv

    def sample(self, rng):
        return float(rng.gamma(self.shape, self.scale))

    def sample_many(self, rng, n):
        return rng.gamma(self.shape, self.scale, n)

    def to_spec(self):
        return {"dist": "gamma", "mean": self.mean_, "cv": self.cv}


class Empirical(Dist):
    """Draws uniformly among observed values (e.g. measured cold starts)."""

    __slots__ = ("values", "_array")
    name = "empirical"

    def __init__(self, values):
        values = tuple(float(v) for v in values)
        _check(len(values) > 0, "needs at least one value", "values")
        _check(all(math.isfinite(v) and v >= 0 for v in values), "values must not be negative", "values")
        _init(self, values=values, _array=np.array(values))

    @classmethod
    def from_file(cls, path: str | Path) -> Empirical:
        """One value a line (seconds or a duration); blank lines, `#` comments and a header line are skipped."""
        path = Path(path)
        try:
            lines = read_user_text(path, SAMPLES_LIMIT).splitlines()
        except UserFileError as exc:
            where = f"file not found: {path}" if str(exc) == "file not found" else f"{path}: {exc}"
            raise InputError(where, "file") from None
        values = []
        for number, line in enumerate(lines, start=1):
            text = line.split("#", 1)[0].split(",", 1)[0].strip()
            if not text:
                continue
            try:
                values.append(parse_duration(text))
            except InputError:
                if values or any(c.isdigit() for c in text):  # only a leading header may be text
                    # the line itself is not shown: a file of another kind (a mistyped path) may hold secrets
                    raise InputError(f"{path} line {number}: not a duration (one value a line: seconds, or a "
                                     "duration such as 150ms or 1.2s)", "file") from None
        if not values:
            raise InputError(f"{path} holds no values", "file")
        return cls(values)

    def _key(self):
        return self.values

    @property
    def mean(self):
        return math.fsum(self.values) / len(self.values)

    def sample(self, rng):
        return self.values[int(rng.integers(len(self.values)))]

    def sample_many(self, rng, n):
        return self._array[rng.integers(len(self.values), size=n)]

    def to_spec(self):
        return {"dist": "empirical", "values": list(self.values)}

    def __repr__(self):
        return f"Empirical({len(self.values)} values, mean={format_number(self.mean)})"


# Parameters of each form; durations are parsed with units, the others are plain numbers.
_FORMS = {
    "constant": [(("value",), lambda value: Constant(value))],
    "exponential": [(("mean",), lambda mean: Exponential(mean))],
    "uniform": [(("low", "high"), lambda low, high: Uniform(low, high))],
    "lognormal": [
        (("median", "p99"), LogNormal.from_median_p99),
        (("mean", "cv"), LogNormal.from_mean_cv),
        (("mu", "sigma"), LogNormal),
    ],
    "gamma": [(("mean", "cv"), lambda mean, cv: Gamma(mean, cv))],
    "empirical": [(("values",), None), (("file",), None)],
}
DIST_NAMES = tuple(sorted(_FORMS))
_PLAIN_NUMBERS = {"cv", "mu", "sigma"}


def _describe_forms(name: str) -> str:
    forms = [" and ".join(params) for params, _ in _FORMS[name]]
    return f"{name} needs " + (forms[0] if len(forms) == 1 else "either " + ", or ".join(forms))


def _number(value, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"must be a number, got {show_value(value)}", key)
    if not math.isfinite(value) or abs(value) > 1e300:
        raise InputError(f"must be a finite number, got {show_value(value)}", key)
    return float(value)


def _param(value, key: str) -> float:
    if key in _PLAIN_NUMBERS:
        return _number(value, key)
    try:
        return parse_duration(value)
    except InputError as exc:
        raise InputError(str(exc), key) from None


def parse_dist(value, base_dir: str | Path | None = None) -> Dist:
    """A distribution from a duration (a constant) or a `{dist: NAME, ...}` mapping.

    `base_dir` is the folder that an empirical `file:` is relative to (the scenario file's folder).
    Raises InputError (a ValueError) with a reason; its `key` names the parameter at fault, if any.
    """
    if isinstance(value, Dist):
        return value
    if not isinstance(value, Mapping):
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            return Constant(parse_duration(value))
        raise InputError(f"must be a duration or a mapping with `dist:` (e.g. {{dist: exponential, mean: 2s}}), "
                         f"got {show_value(value)}")
    if "dist" not in value:
        raise InputError(f"missing key `dist` (one of {', '.join(DIST_NAMES)})")
    name = value["dist"]
    if not isinstance(name, str) or name not in _FORMS:
        raise InputError(f"unknown distribution {show_value(name)}; valid: {', '.join(DIST_NAMES)}", "dist")
    given = set(value) - {"dist"}
    allowed = {p for params, _ in _FORMS[name] for p in params}
    unexpected = sorted(given - allowed, key=str)
    if unexpected:
        raise InputError(f"unexpected parameter for {name} ({_describe_forms(name)})", str(unexpected[0]))
    form = next((f for f in _FORMS[name] if set(f[0]) == given), None)
    if form is None:
        raise InputError(f"{_describe_forms(name)}, got {', '.join(sorted(given)) or 'nothing'}")
    params, build = form
    if name == "empirical":
        return _parse_empirical(value, base_dir)
    args = [_param(value[p], p) for p in params]
    return build(*args)


def _parse_empirical(value: Mapping, base_dir) -> Empirical:
    if "file" in value:
        file = value["file"]
        if not isinstance(file, str) or not file.strip():
            raise InputError(f"must be a file name, got {show_value(file)}", "file")
        path = Path(file)
        if not path.is_absolute():
            path = Path(base_dir or ".") / path
        return Empirical.from_file(path)
    values = value["values"]
    if not isinstance(values, (list, tuple)) or not values:
        raise InputError(f"must be a non-empty list of durations, got {show_value(values)}", "values")
    parsed = []
    for i, v in enumerate(values):
        try:
            parsed.append(parse_duration(v))
        except InputError as exc:
            raise InputError(f"item {i}: {exc}", "values") from None
    return Empirical(parsed)
