"""Read a questionnaire codebook from YAML and check it, naming file, line and field on error.

The schema is documented in ``questionnaires/README.md``.  PyYAML's composer
gives every node its position; the loader keeps the line of every field so that
a malformed codebook is rejected with one message such as::

    ningbo_apparel.yaml: line 42, field 'sections[2].items[3].scale': unknown scale 'agree7' (declared: agree5)
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import yaml

from surveykit.codebook.model import (
    ITEM_TYPES,
    LANGS,
    ROLES,
    Codebook,
    Construct,
    Item,
    Option,
    Scale,
    Section,
)
from surveykit.errors import CodebookError

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NUMERIC_TYPES = ("integer", "number", "year")
_TOP_KEYS = {"questionnaire", "respondent_id", "missing_codes", "scales", "constructs", "sections"}
_QUESTIONNAIRE_KEYS = {"id", "version", "title", "cluster", "instructions", "source"}
_SECTION_KEYS = {"id", "title", "construct", "scale", "type", "instructions", "items",
                 "missing_codes"}
_ITEM_KEYS = {"id", "type", "text", "required", "construct", "reverse", "scale", "options",
              "min", "max", "unit", "aliases", "missing_codes"}


class _Doc:
    """Plain Python values converted from YAML nodes, with the line of every field path."""

    def __init__(self, name: str):
        self.name = name
        self.lines: dict[tuple, int] = {}

    def convert(self, node: yaml.Node, path: tuple = ()) -> Any:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    self.lines[path] = key_node.start_mark.line + 1
                    raise self.error(path, "mapping keys must be plain values")
                key = self._scalar(key_node)
                if key in out:
                    self.lines[(*path, key)] = key_node.start_mark.line + 1
                    raise self.error((*path, key), "duplicated key")
                out[key] = self.convert(value_node, (*path, key))
                # a field's line is where its key is written
                self.lines[(*path, key)] = key_node.start_mark.line + 1
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(v, (*path, i)) for i, v in enumerate(node.value)]
        return self._scalar(node)

    @staticmethod
    def _scalar(node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise CodebookError("mapping keys must be plain values")
        return _construct_scalar(node)

    def line(self, path: tuple) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())

    def error(self, path: tuple, message: str) -> CodebookError:
        field = _field_name(path)
        line = self.line(path)
        where = f"line {line}, " if line else ""
        return CodebookError(f"{self.name}: {where}field '{field}': {message}",
                             path=self.name, line=line, field=field)


_resolver_loader = yaml.SafeLoader("")


def _construct_scalar(node: yaml.ScalarNode) -> Any:
    # resolve the node's tag with YAML 1.1 rules (ints, floats, bools, null) as safe_load does
    return _resolver_loader.construct_object(node, deep=True)


def _field_name(path: tuple) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "<document>"


def load_codebook(path: str | Path) -> Codebook:
    """Load and check a questionnaire codebook.

    Parameters
    ----------
    path : str or Path
        A YAML file following the schema in ``questionnaires/README.md``.

    Returns
    -------
    Codebook
        With ``.id``, ``.version``, ``.items``, ``.constructs``, ``.scales``,
        ``.sections`` and ``.likert_items(construct=None)``.

    Raises
    ------
    CodebookError
        When the file cannot be read or parsed, or a field is missing or wrong;
        the message names the file, the line and the field.

    Examples
    --------
    >>> cb = load_codebook("questionnaires/ningbo_apparel.yaml")
    >>> [i.id for i in cb.likert_items("LEARN")]
    ['LEARN1', 'LEARN2', 'LEARN3', 'LEARN4']
    """
    path = Path(path)
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CodebookError(f"{name}: cannot read codebook ({exc.strerror or exc})", path=name) from None
    return parse_codebook(raw, name=name)


def parse_codebook(source: bytes | str, *, name: str = "<codebook>") -> Codebook:
    """Check a codebook given as YAML text; ``name`` stands for the file in messages.

    The store keeps each imported questionnaire's codebook text, so an analysis
    can rebuild the codebook exactly as it was at import time.
    """
    raw = source.encode("utf-8") if isinstance(source, str) else source
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CodebookError(f"{name}: codebook is not UTF-8 text (byte {exc.start})", path=name) from None
    doc = _Doc(name)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise CodebookError(f"{name}: {where}YAML syntax error: {problem}", path=name,
                            line=mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise CodebookError(f"{name}: YAML syntax error: {exc}", path=name) from None
    if node is None:
        raise CodebookError(f"{name}: codebook is empty", path=name)
    try:
        data = doc.convert(node)
    except yaml.YAMLError as exc:
        raise CodebookError(f"{name}: YAML error: {exc}", path=name) from None
    codebook = _build(data, doc)
    object.__setattr__(codebook, "path", None if name == "<codebook>" else name)
    object.__setattr__(codebook, "sha256", hashlib.sha256(raw).hexdigest())
    return codebook


def _build(data: Any, doc: _Doc) -> Codebook:
    if not isinstance(data, dict):
        raise doc.error((), "the codebook must be a mapping with keys " + ", ".join(sorted(_TOP_KEYS)))
    _no_unknown(data, _TOP_KEYS, (), doc)
    for key in ("questionnaire", "respondent_id", "scales", "constructs", "sections"):
        if key not in data:
            raise doc.error((key,), "is required")

    q = _mapping(data["questionnaire"], ("questionnaire",), doc)
    _no_unknown(q, _QUESTIONNAIRE_KEYS, ("questionnaire",), doc)
    qid = _ident(q.get("id"), ("questionnaire", "id"), doc)
    version = q.get("version")
    if version is None or isinstance(version, (dict, list, bool)) or str(version).strip() == "":
        raise doc.error(("questionnaire", "version"), "is required (a version string such as '1.0')")
    title = _bilingual(q.get("title"), ("questionnaire", "title"), doc)
    cluster = _mapping(q.get("cluster"), ("questionnaire", "cluster"), doc)
    _no_unknown(cluster, {"id", "zh", "en"}, ("questionnaire", "cluster"), doc)
    _ident(cluster.get("id"), ("questionnaire", "cluster", "id"), doc)
    _bilingual({k: cluster.get(k) for k in LANGS}, ("questionnaire", "cluster"), doc)
    instructions = _bilingual(q["instructions"], ("questionnaire", "instructions"), doc) \
        if "instructions" in q else {}
    source = _mapping(q.get("source", {}), ("questionnaire", "source"), doc)

    missing = _str_list(data.get("missing_codes", []), ("missing_codes",), doc)

    scales: dict[str, Scale] = {}
    for sid, spec in _mapping(data["scales"], ("scales",), doc).items():
        scales[sid] = _scale(sid, spec, ("scales", sid), doc)

    constructs_spec = _mapping(data["constructs"], ("constructs",), doc)
    for cid, spec in constructs_spec.items():
        p = ("constructs", cid)
        _ident(cid, p, doc)
        spec = _mapping(spec, p, doc)
        _no_unknown(spec, {"name", "role", "definition"}, p, doc)
        _bilingual(spec.get("name"), (*p, "name"), doc)
        if not isinstance(spec.get("role"), str) or spec.get("role") not in ROLES:
            raise doc.error((*p, "role"), f"must be one of {', '.join(ROLES)} (got {spec.get('role')!r})")
        if "definition" in spec:
            _bilingual(spec["definition"], (*p, "definition"), doc)

    sections: list[Section] = []
    items: list[Item] = []
    seen: dict[str, tuple] = {}
    for si, sspec in enumerate(_list(data["sections"], ("sections",), doc)):
        sp = ("sections", si)
        sspec = _mapping(sspec, sp, doc)
        _no_unknown(sspec, _SECTION_KEYS, sp, doc)
        sec_id = _ident(sspec.get("id"), (*sp, "id"), doc)
        sec_title = _bilingual(sspec.get("title"), (*sp, "title"), doc)
        sec_construct = sspec.get("construct")
        if sec_construct is not None and (not isinstance(sec_construct, str)
                                          or sec_construct not in constructs_spec):
            raise doc.error((*sp, "construct"), f"unknown construct {sec_construct!r} "
                            f"(declared: {', '.join(constructs_spec)})")
        sec_scale = sspec.get("scale")
        if sec_scale is not None and (not isinstance(sec_scale, str) or sec_scale not in scales):
            raise doc.error((*sp, "scale"), f"unknown scale {sec_scale!r} (declared: {', '.join(scales)})")
        sec_type = sspec.get("type", "likert" if sec_scale else None)
        sec_missing = _str_list(sspec.get("missing_codes", []), (*sp, "missing_codes"), doc)
        ids = []
        for ii, ispec in enumerate(_list(sspec.get("items"), (*sp, "items"), doc)):
            ip = (*sp, "items", ii)
            item = _item(ispec, ip, doc, sec_id, sec_type, sec_construct, sec_scale, scales,
                         constructs_spec, sec_missing)
            if item.id in seen:
                raise doc.error((*ip, "id"), f"duplicated item id {item.id!r} "
                                f"(first at line {doc.line(seen[item.id])})")
            seen[item.id] = (*ip, "id")
            items.append(item)
            ids.append(item.id)
        sec_instr = _bilingual(sspec["instructions"], (*sp, "instructions"), doc) \
            if "instructions" in sspec else None
        sections.append(Section(sec_id, sec_title, tuple(ids), sec_construct, sec_instr))
    if not items:
        raise doc.error(("sections",), "the questionnaire has no items")

    constructs: dict[str, Construct] = {}
    for cid, spec in constructs_spec.items():
        member = tuple(i.id for i in items if i.construct == cid)
        if not member:
            raise doc.error(("constructs", cid), "no Likert item measures this construct")
        constructs[cid] = Construct(cid, dict(spec["name"]), spec["role"], member,
                                    dict(spec["definition"]) if "definition" in spec else None)

    rid = data["respondent_id"]
    if not isinstance(rid, str) or rid not in seen:
        raise doc.error(("respondent_id",), f"must name an item of the questionnaire (got {rid!r})")
    rid_item = next(i for i in items if i.id == rid)
    if rid_item.type not in ("text", "integer"):
        raise doc.error(("respondent_id",), f"item {rid!r} must be of type text or integer "
                        f"(is {rid_item.type})")

    return Codebook(
        id=qid, version=str(version), title=title, cluster=dict(cluster), respondent_id=rid,
        missing_codes=tuple(missing), scales=scales, constructs=constructs,
        sections=tuple(sections), items=tuple(items), instructions=instructions,
        source={str(k): str(v) for k, v in source.items()},
    )


def _item(spec, ip, doc, sec_id, sec_type, sec_construct, sec_scale, scales, constructs_spec,
          sec_missing) -> Item:
    spec = _mapping(spec, ip, doc)
    _no_unknown(spec, _ITEM_KEYS, ip, doc)
    iid = _ident(spec.get("id"), (*ip, "id"), doc)
    itype = spec.get("type", sec_type)
    if not isinstance(itype, str) or itype not in ITEM_TYPES:
        raise doc.error((*ip, "type"), f"must be one of {', '.join(ITEM_TYPES)} (got {itype!r})")
    text = _bilingual(spec.get("text"), (*ip, "text"), doc)
    required = spec.get("required", itype == "likert")
    if not isinstance(required, bool):
        raise doc.error((*ip, "required"), f"must be true or false (got {required!r})")
    reverse = spec.get("reverse", False)
    if not isinstance(reverse, bool):
        raise doc.error((*ip, "reverse"), f"must be true or false (got {reverse!r})")
    construct = spec.get("construct", sec_construct if itype == "likert" else None)
    scale = None
    if itype == "likert":
        sid = spec.get("scale", sec_scale)
        if sid is None:
            raise doc.error((*ip, "scale"), f"Likert item {iid!r} needs a scale")
        if not isinstance(sid, str) or sid not in scales:
            raise doc.error((*ip, "scale"), f"unknown scale {sid!r} (declared: {', '.join(scales)})")
        scale = scales[sid]
        if construct is None:
            raise doc.error((*ip, "construct"), f"Likert item {iid!r} needs a construct")
    else:
        for key in ("scale", "reverse"):
            if key in spec:
                raise doc.error((*ip, key), f"only Likert items take '{key}' (item {iid!r} is {itype})")
    if construct is not None and (not isinstance(construct, str) or construct not in constructs_spec):
        raise doc.error((*ip, "construct"), f"unknown construct {construct!r} "
                        f"(declared: {', '.join(constructs_spec)})")
    options: list[Option] = []
    if itype in ("single", "multiple"):
        raw_opts = _list(spec.get("options"), (*ip, "options"), doc)
        if len(raw_opts) < 2:
            raise doc.error((*ip, "options"), f"a {itype}-choice item needs at least two options")
        codes = set()
        for oi, ospec in enumerate(raw_opts):
            op = (*ip, "options", oi)
            ospec = _mapping(ospec, op, doc)
            _no_unknown(ospec, {"code", "zh", "en"}, op, doc)
            code = ospec.get("code")
            if not isinstance(code, int) or isinstance(code, bool):
                raise doc.error((*op, "code"), f"must be an integer (got {code!r})")
            if code in codes:
                raise doc.error((*op, "code"), f"duplicated option code {code}")
            codes.add(code)
            options.append(Option(code, _bilingual({k: ospec.get(k) for k in LANGS}, op, doc)))
    elif "options" in spec:
        raise doc.error((*ip, "options"), f"only single- and multiple-choice items take options "
                        f"(item {iid!r} is {itype})")
    lo, hi = spec.get("min"), spec.get("max")
    for key, val in (("min", lo), ("max", hi)):
        if val is not None:
            if itype not in _NUMERIC_TYPES:
                raise doc.error((*ip, key), f"only integer, number and year items take '{key}'")
            if isinstance(val, bool) or not isinstance(val, (int, float)):
                raise doc.error((*ip, key), f"must be a number (got {val!r})")
    if lo is not None and hi is not None and lo > hi:
        raise doc.error((*ip, "max"), f"max ({hi}) is below min ({lo})")
    unit = _bilingual(spec["unit"], (*ip, "unit"), doc) if "unit" in spec else None
    aliases = _str_list(spec.get("aliases", []), (*ip, "aliases"), doc)
    missing = sec_missing + _str_list(spec.get("missing_codes", []), (*ip, "missing_codes"), doc)
    return Item(id=iid, section=sec_id, type=itype, text=text, required=required,
                construct=construct, reverse=reverse, scale=scale, options=tuple(options),
                min=lo, max=hi, unit=unit, aliases=tuple(aliases), missing_codes=tuple(missing),
                line=doc.line(ip))


def _scale(sid, spec, p, doc) -> Scale:
    _ident(sid, p, doc)
    spec = _mapping(spec, p, doc)
    _no_unknown(spec, {"min", "max", "labels"}, p, doc)
    lo, hi = spec.get("min"), spec.get("max")
    for key, val in (("min", lo), ("max", hi)):
        if not isinstance(val, int) or isinstance(val, bool):
            raise doc.error((*p, key), f"must be an integer (got {val!r})")
    if hi <= lo:
        raise doc.error((*p, "max"), f"max ({hi}) must exceed min ({lo})")
    labels_spec = _mapping(spec.get("labels"), (*p, "labels"), doc)
    labels: dict[int, dict[str, str]] = {}
    for point, lab in labels_spec.items():
        if not isinstance(point, int) or isinstance(point, bool) or not lo <= point <= hi:
            raise doc.error((*p, "labels", point), f"label key must be a scale point {lo}..{hi} "
                            f"(got {point!r})")
        labels[point] = _bilingual(lab, (*p, "labels", point), doc)
    missing = [pt for pt in range(lo, hi + 1) if pt not in labels]
    if missing:
        raise doc.error((*p, "labels"), f"no label for point(s) {', '.join(map(str, missing))}")
    return Scale(sid, lo, hi, labels)


def _no_unknown(spec: dict, allowed: set, p: tuple, doc: _Doc) -> None:
    for key in spec:
        if key not in allowed:
            raise doc.error((*p, key), f"unknown field (allowed: {', '.join(sorted(allowed))})")


def _mapping(value, p, doc) -> dict:
    if not isinstance(value, dict):
        raise doc.error(p, "is required" if value is None else
                        f"must be a mapping (got {type(value).__name__})")
    return value


def _list(value, p, doc) -> list:
    if not isinstance(value, list):
        raise doc.error(p, "is required" if value is None else
                        f"must be a list (got {type(value).__name__})")
    return value


def _ident(value, p, doc) -> str:
    if not isinstance(value, str) or not _IDENT.match(value):
        raise doc.error(p, "is required" if value is None else
                        f"must be an identifier of letters, digits and underscores (got {value!r})")
    return value


def _bilingual(value, p, doc) -> dict[str, str]:
    value = _mapping(value, p, doc)
    out = {}
    for lang in LANGS:
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            raise doc.error((*p, lang), f"needs a non-empty {'Chinese' if lang == 'zh' else 'English'} text")
        out[lang] = text.strip()
    return out


def _str_list(value, p, doc) -> list[str]:
    value = _list(value, p, doc)
    out = []
    for i, v in enumerate(value):
        if v is None:
            v = ""
        if isinstance(v, (dict, list, bool)):
            raise doc.error((*p, i), f"must be a text or number (got {v!r})")
        out.append(str(v))
    return out
