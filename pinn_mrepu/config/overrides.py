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

__all__ = ["apply_overrides", "load_yaml", "read_yaml"]


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads ``1e-3`` (an exponent without a dot) as a float, as YAML 1.2 does.

    PyYAML follows YAML 1.1, where ``lr: 1e-3`` would be the string ``"1e-3"`` and fail the schema.
    """


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$"), list("-+0123456789")
)


#: Limits of a YAML document: nesting depth, values after expanding aliases, digits of an integer literal.
MAX_YAML_DEPTH, MAX_YAML_VALUES, MAX_INT_DIGITS = 24, 20_000, 18
MAX_FILE_BYTES = 4 * 2**20


def _check_node(node: yaml.Node, path: str, depth: int, count: list[int], origin: object) -> None:
    """Depth, expanded size (aliases re-count their target), duplicate keys and integer literals of a node tree."""
    where = path or "problem file"
    count[0] += 1
    if count[0] > MAX_YAML_VALUES:
        raise ConfigError(where, origin, f"expands to more than {MAX_YAML_VALUES} values (YAML aliases?); "
                                         "write the values out")
    if depth > MAX_YAML_DEPTH:
        raise ConfigError(where, origin, f"nests deeper than {MAX_YAML_DEPTH} levels (line {node.start_mark.line + 1})")
    if isinstance(node, yaml.ScalarNode):
        digits = node.value.lstrip("+-").replace("_", "")
        if node.tag == "tag:yaml.org,2002:int" and len(digits) > MAX_INT_DIGITS:
            raise ConfigError(where, node.value, f"is an integer of more than {MAX_INT_DIGITS} digits "
                                                 f"(line {node.start_mark.line + 1})")
        return
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_node(item, f"{path}.{i}" if path else str(i), depth + 1, count, origin)
        return
    seen: dict[tuple[str, str], int] = {}
    for key, value in node.value:
        name = key.value if isinstance(key, yaml.ScalarNode) else "<key>"
        sub = f"{path}.{name}" if path else str(name)
        if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
            line = key.start_mark.line + 1
            if (key.tag, key.value) in seen:
                first = seen[key.tag, key.value]
                where_ = f"on line {line}" if first == line else f"on lines {first} and {line}"
                raise ConfigError(sub, value.value if isinstance(value, yaml.ScalarNode) else origin,
                                  f"is given twice ({where_}); a key may appear once")
            seen[key.tag, key.value] = line
        _check_node(key, sub, depth + 1, count, origin)
        _check_node(value, sub, depth + 1, count, origin)


def load_yaml(text: str, *, prefix: str = "", origin: object = None) -> Any:
    """Parse ``text`` with the safe loader, within the limits above.

    ``prefix`` is the dotted key the document sits under (for error fields) and ``origin`` the value an error
    shows (the file name or the ``--set`` item).

    Raises:
        yaml.YAMLError: not YAML.
        ConfigError: a duplicate key, too deep a nesting, too many values through aliases, a huge integer.
    """
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise ConfigError(prefix or "problem file", origin, f"nests deeper than {MAX_YAML_DEPTH} levels") from None
        if node is None:
            return None
        _check_node(node, prefix, 0, [0], origin)
        try:
            return loader.construct_document(node)
        except (ValueError, TypeError, OverflowError, RecursionError) as exc:
            raise ConfigError(prefix or "problem file", origin, f"holds a value YAML cannot construct ({exc})") from None
    finally:
        loader.dispose()


def _parse_override(item: str) -> tuple[list[str], Any]:
    key, sep, raw = item.partition("=")
    if not sep or not key.strip() or any(not part for part in key.strip().split(".")):
        raise ConfigError("--set", item, "must look like KEY=VALUE with a dotted key, e.g. network.depth=7")
    try:
        value = load_yaml(raw, prefix=key.strip(), origin=item) if raw.strip() else ""
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
    if ("network.activation" in paths and not any(p.startswith("network.activation_params") for p in paths)
            and isinstance(data.get("network"), dict)):
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


def read_yaml(path: str | Path, *, field: str = "problem file") -> dict:
    """Read a YAML mapping; a missing, unreadable, oversized or non-YAML file is a ConfigError naming ``field``."""
    p = Path(path)
    try:
        if not p.is_file():
            raise ConfigError(field, str(path), "must be an existing YAML file")
        if p.stat().st_size > MAX_FILE_BYTES:
            raise ConfigError(field, str(path), f"is larger than {MAX_FILE_BYTES // 2**20} MiB; not a problem file")
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(field, str(path), f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(field, str(path), f"must be UTF-8 text (byte {exc.start} is not)") from None
    try:
        data = load_yaml(text, origin=str(path))
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(field, str(path), f"must be valid YAML ({first}{where})") from None
    if not isinstance(data, dict):
        raise ConfigError(field, str(path), "must hold a YAML mapping at the top level")
    return data
