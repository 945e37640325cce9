"""The YAML file's overrides and reading: a YAML 1.2-style float loader, ``--set KEY=VALUE`` and strict file reading.

Schema checks live in :mod:`pinn_mrepu.config.schema`; the semantic checks that need the physics and the network
registries, and the public ``load_config``, in :mod:`pinn_mrepu.validation`.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

from pinn_mrepu.errors import ConfigError

from .schema import default_phases

__all__ = ["apply_overrides", "read_yaml", "load_yaml"]


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads ``1e-3`` (an exponent without a dot) as a float, as YAML 1.2 does.

    PyYAML follows YAML 1.1, where ``lr: 1e-3`` would be the string ``"1e-3"`` and fail the schema.
    """


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$"), list("-+0123456789")
)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


def _parse_override(item: str) -> tuple[list[str], Any]:
    key, sep, raw = item.partition("=")
    if not sep or not key.strip() or any(not part for part in key.strip().split(".")):
        raise ConfigError("--set", item, "must look like KEY=VALUE with a dotted key, e.g. network.depth=7")
    try:
        value = load_yaml(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.strip().split("."), value


def apply_overrides(data: dict, overrides: list[str] | tuple[str, ...] | None) -> dict:
    """Return a copy of ``data`` with each ``"a.b.c=value"`` set (value parsed as YAML).

    Changing ``network.activation`` without also setting ``network.activation_params`` resets the
    parameters to the new activation's defaults (so ``network.activation=tanh`` works on a file written for
    ``mrepu`` with ``p: 3``).  A list element is addressed by position, and a phase of ``train.phases`` also by
    its optimizer name when it is the only one: ``train.phases.0.lr=1e-3``, ``train.phases.lbfgs.steps=500``.
    """
    data = copy.deepcopy(data) if data else {}
    parsed = [_parse_override(item) for item in overrides or ()]
    paths = [".".join(keys) for keys, _ in parsed]
    if "network.activation" in paths and not any(p.startswith("network.activation_params") for p in paths):
        if isinstance(data.get("network"), dict):
            data["network"].pop("activation_params", None)
    if any(p.startswith("train.phases.") for p in paths) and isinstance(data.get("train", {}), dict):
        train = data.setdefault("train", {})
        if train.get("phases") is None:  # address the default phases the file relies on
            train["phases"] = default_phases()
    for item, (keys, value) in zip(overrides or (), parsed):
        node: Any = data
        for i, k in enumerate(keys[:-1]):
            where = ".".join(keys[: i + 1])
            if isinstance(node, list):
                node = node[_list_index(node, k, where, item)]
                if not isinstance(node, (dict, list)):
                    raise ConfigError(where, node, f"is not a mapping, cannot set {item!r}")
                continue
            nxt = node.get(k)
            if nxt is None:
                nxt = node[k] = {}
            if not isinstance(nxt, (dict, list)):
                raise ConfigError(where, nxt, f"is not a mapping, cannot set {item!r}")
            node = nxt
        if isinstance(node, list):
            node[_list_index(node, keys[-1], ".".join(keys), item)] = value
        else:
            node[keys[-1]] = value
    return data


def _list_index(items: list, key: str, where: str, item: str) -> int:
    """``key`` addresses a list element by position (``0``, ``1``, ...) or, in a list of phases, by the
    ``optimizer`` name of the only phase that has it (``train.phases.adam.steps=20``)."""
    if key.isdigit():
        if int(key) < len(items):
            return int(key)
        raise ConfigError(where, key, f"is out of range: the list has {len(items)} items, cannot set {item!r}")
    hits = [j for j, x in enumerate(items) if isinstance(x, dict) and x.get("optimizer") == key]
    if len(hits) == 1:
        return hits[0]
    names = [x.get("optimizer") for x in items if isinstance(x, dict)]
    rule = (f"names {len(hits)} phases; use the position (0-{len(items) - 1})" if hits else
            f"must be a position 0-{len(items) - 1}" + (f" or an optimizer of the list ({', '.join(map(str, names))})"
                                                       if any(names) else ""))
    raise ConfigError(where, key, f"{rule}, cannot set {item!r}")


def read_yaml(path: str | Path) -> dict:
    """Read a YAML mapping; a missing, unreadable or non-YAML file is a ConfigError."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError("problem file", str(path), "must be an existing YAML file")
    try:
        data = load_yaml(p.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError("problem file", str(path), f"must be valid YAML ({first})") from None
    if not isinstance(data, dict):
        raise ConfigError("problem file", str(path), "must hold a YAML mapping at the top level")
    return data
