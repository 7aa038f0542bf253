"""The parts of `sim report`'s page that do not depend on the folder's kind: the scenario in brief, its
warnings, the model's assumptions with their plausible ranges (and this scenario's value), the cost, and
a figure as `mean [low, high]`. Each returns HTML (sim/html_page.py); none reads a file itself."""
from __future__ import annotations

from .assumptions import ASSUMPTIONS
from .html_page import Markup, esc, inline, table


def number(v, digits: int = 4) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int) or isinstance(v, float) and v.is_integer() and abs(v) >= 1000:
        return f"{v:,.0f}"
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.{digits}g}"
    return str(v)


def interval(v, scale: float = 1.0, unit: str = "") -> str:
    """A summary figure `{"mean", "low", "high"}` (or a bare number) as `mean [low, high]`."""
    if not isinstance(v, dict):
        return "-" if v is None else number(v * scale) + unit
    if v.get("mean") is None:
        return "-"
    text = number(v["mean"] * scale) + unit
    if v.get("low") is not None and v.get("high") is not None and v["low"] != v["high"]:
        text += f" [{number(max(v['low'], 0.0) * scale)}, {number(v['high'] * scale)}]"
    return text


def money_interval(v) -> str:
    """An amount of money `{"mean", "low", "high"}` (or a bare number) as `$mean [$low, $high]`, in the one
    money format of every table (sim.report.money)."""
    from .report import money
    if not isinstance(v, dict):
        return money(v)
    text = money(v.get("mean"))
    if v.get("mean") is not None and v.get("low") is not None and v.get("high") is not None \
            and v["low"] != v["high"]:
        text += f" [{money(max(v['low'], 0.0))}, {money(v['high'])}]"
    return text


def seconds(v) -> str:
    if v is None:
        return "-"
    v = float(v)
    for unit, size in (("h", 3600), ("min", 60)):
        if v >= size and (v / size).is_integer():
            return f"{v / size:g} {unit}"
    return f"{v:g} s"


def describe(value) -> str:
    """A scenario value in a cell: a distribution as `lognormal median=0.3 p99=1.5`, lists joined."""
    if isinstance(value, dict):
        head = f"{value['dist']} " if "dist" in value else ""
        return head + " ".join(f"{k}={describe(v)}" for k, v in value.items() if k != "dist")
    if isinstance(value, (list, tuple)):
        return "/".join(describe(v) for v in value)
    return number(value) if isinstance(value, (int, float)) else str(value)


# -- the scenario in brief ---------------------------------------------------------------------------------
def traffic_brief(traffic: dict) -> str:
    if not isinstance(traffic, dict):
        return "-"
    if traffic.get("trace") is not None:
        trace = traffic["trace"]
        fmt = trace.get("format", "csv") if isinstance(trace, dict) else "csv"
        return f"a trace ({fmt} format)"
    rate = traffic.get("rate")
    if isinstance(rate, list):
        rates = [p[1] for p in rate if isinstance(p, (list, tuple)) and len(p) == 2]
        text = f"{number(min(rates))} to {number(max(rates))} req/s over {len(rates)} points" if rates else "-"
    else:
        text = f"{number(rate)} req/s"
    if traffic.get("daily_pattern"):
        text += ", daily pattern"
    return f"{text}, {traffic.get('arrivals', 'poisson')} arrivals"


def scenario_brief(sc: dict | None, note: str = "") -> str:
    """The scenario's description, run length, keys, services and faults, in a few tables."""
    if not sc:
        return f"<p>{esc(note or 'This folder does not keep the scenario.')}</p>"
    parts = [f"<p>{esc(note)}</p>"] if note else []
    if sc.get("description"):
        parts.append(f"<p>{esc(sc['description'])}</p>")
    parts.append(table(["duration", "warm-up", "seed", "replications", "time-series bins"],
                       [[seconds(sc.get("duration")), seconds(sc.get("warmup")), sc.get("seed"),
                         sc.get("replications"), seconds(sc.get("timeseries_interval"))]], text_columns=0))
    keys = sc.get("keys") or []
    if keys:
        parts.append(table(["key", "protection", "name"],
                           [[k.get("id"), k.get("protection"), k.get("name")] for k in keys], text_columns=3))
    services = sc.get("services") or []
    parts.append(table(["service", "key", "billing", "vCPU", "memory (MiB)", "concurrency", "min", "max",
                        "autoscaling", "traffic"],
                       [[s.get("name"), s.get("encryption_key") or "Google-managed", s.get("billing"), s.get("cpu"),
                         s.get("memory"), s.get("concurrency"), s.get("min_instances"), s.get("max_instances"),
                         (s.get("autoscaling") or {}).get("policy"), traffic_brief(s.get("traffic"))]
                        for s in services], text_columns=3))
    faults = sc.get("faults") or []
    if faults:
        rows = [[seconds(f.get("at")), f.get("kind"),
                 ", ".join(f"{k}={describe(v)}" for k, v in f.items() if k not in ("at", "kind"))] for f in faults]
        parts.append(table(["at", "fault", "details"], rows, text_columns=3))
    else:
        parts.append("<p>No faults.</p>")
    return "\n".join(parts)


def warnings_section(lines: list[str]) -> str:
    if not lines:
        return "<p>None.</p>"
    return "\n".join(f'<div class="warn">{inline(line)}</div>' for line in lines)


# -- assumptions ---------------------------------------------------------------------------------------------
def scenario_value(sc: dict | None, path: str | None) -> str:
    """The scenario's value of a plain key (`services[]`: each service's), or '' when not one key."""
    if not sc or not path:
        return ""

    def walk(node, parts):
        for part in parts:
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node
    if path.startswith("services[]."):
        parts = path.removeprefix("services[].").split(".")
        values = [f"{s.get('name')}: {describe(v)}" for s in sc.get("services") or []
                  if (v := walk(s, parts)) is not None]
        return "; ".join(values)
    value = walk(sc, path.split("."))
    return "" if value is None else describe(value)


def assumptions_section(sc: dict | None) -> str:
    """Every assumption of the model (the README's table): its value here, default, plausible range, why."""
    here = [[scenario_value(sc, a.path or a.parameter.removesuffix(".*"))] if sc else [] for a in ASSUMPTIONS]
    rows = [[a.parameter, *value, describe(a.default), describe(a.low), describe(a.high), a.reason]
            for a, value in zip(ASSUMPTIONS, here)]
    header = ["assumption", *(["this scenario"] if sc else []), "default", "low", "high", "why this range"]
    return ("<p>Defaults without a public source, each a scenario parameter; low and high are plausible "
            "values (<code>sim sensitivity</code> runs them). Durations in seconds.</p>"
            + table(header, rows, text_columns=len(header)))


# -- cost -------------------------------------------------------------------------------------------------
COST_ROWS = (("billable instance-seconds", ("billable_instance_s",)), ("vCPU-seconds", ("vcpu_seconds",)),
             ("GiB-seconds", ("gib_seconds",)),
             ("idle minimum-instance seconds", ("idle_min_instance_s",)), ("requests billed", ("requests",)),
             ("CPU", ("usd", "cpu")), ("memory", ("usd", "memory")),
             ("idle minimum instances: CPU", ("usd", "idle_cpu")),
             ("idle minimum instances: memory", ("usd", "idle_memory")),
             ("requests", ("usd", "requests")), ("key operations", ("usd", "kms")),
             ("total", ("total_usd",)), ("per month at this traffic", ("usd_per_month",)))


def cost_section(services: dict, sc: dict | None, duration_s) -> str:
    """Each service's cost for the simulated time (means over replications, 95% intervals)."""
    names = list(services)
    rows = []
    for label, path in COST_ROWS:
        row = [label]
        for name in names:
            node = services[name].get("cost") or {}
            for part in path:
                node = node.get(part) if isinstance(node, dict) and part in node else None
            row.append(money_interval(node) if path[0] in ("usd", "total_usd", "usd_per_month")
                       else interval(node))
        rows.append(row)
    billing = {s.get("name"): s.get("billing") for s in (sc or {}).get("services") or []}
    head = (f"<p>US dollars for the {seconds(duration_s)} simulated, at the scenario's prices (by default list prices; "
            "free tiers ignored); billing: " + esc(", ".join(f"{n} {billing.get(n) or 'request'}-based"
                                                             for n in names)) + ".</p>")
    return head + table(["", *names], [[Markup(esc(r[0])), *r[1:]] for r in rows])
