"""What the integration's code uses that needs a translation or an icon.

Home Assistant's own CI (hassfest) checks translations against strings.json, which a
custom integration does not have, and cannot see which keys the code uses at all. This
module finds them, two ways:

- by importing every module of the integration and walking its module-level values:
  entity descriptions (in constants, tuples, lists, dicts) and entity classes with a
  class-level `_attr_translation_key`, with the platform read from the class they
  extend;
- by reading the source (ast): config-flow step ids, menu options, errors and abort
  reasons, followed through the helper functions a flow calls; selector, exception and
  repair-issue translation keys. A value that is not a literal is evaluated in the
  module's namespace (a constant such as CONF_FRAMING, or a comprehension over an
  enum); a value only known at run time cannot be, and is left out.

A key the code uses that this module cannot see is the limit of a static check; the
dashboard test adds a run-time check of every entity it creates.
"""

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
import importlib
import inspect
from pathlib import Path
import pkgutil
import re
from types import ModuleType
from typing import Any

from homeassistant.helpers.entity import Entity

import custom_components.energy_meters as integration

PACKAGE_DIR = Path(integration.__file__).parent
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def integration_modules() -> list[ModuleType]:
    """Every module of the integration, imported."""
    return [integration] + [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(
            integration.__path__, f"{integration.__name__}."
        )
    ]


# --- entities ------------------------------------------------------------------------


@dataclass(frozen=True)
class EntityKey:
    """An entity translation key of one platform, and where the code defines it."""

    platform: str
    key: str
    where: str
    has_name: bool = True
    """False for an entity that takes its device's name (name=None)."""
    states: tuple[str, ...] = ()
    """The options of an enum sensor or select, when they are fixed in the code."""


def _platform_of_description(cls: type) -> str | None:
    """`BinarySensorEntityDescription` (or a subclass of it) -> "binary_sensor"."""
    for klass in cls.__mro__:
        name = klass.__name__
        if name.endswith("EntityDescription") and name != "EntityDescription":
            return _CAMEL.sub("_", name.removesuffix("EntityDescription")).lower()
    return None


def _platform_of_entity(cls: type) -> str | None:
    """The entity platform a class implements: the HA component of its base class."""
    for klass in cls.__mro__:
        parts = klass.__module__.split(".")
        if parts[:2] == ["homeassistant", "components"] and len(parts) >= 3:
            return parts[2]
    return None


def _is_description(value: Any) -> bool:
    """Entity descriptions, also of the frozen-dataclass variety HA builds on the fly."""
    return type(value).__name__.endswith("Description") and hasattr(
        value, "translation_key"
    )


def _descriptions(value: Any, depth: int = 0) -> Iterator[Any]:
    if _is_description(value):
        yield value
    elif depth < 3 and isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _descriptions(item, depth + 1)
    elif depth < 3 and isinstance(value, Mapping):
        for item in value.values():
            yield from _descriptions(item, depth + 1)


def entity_keys(modules: list[ModuleType] | None = None) -> list[EntityKey]:
    """Every entity translation key the integration's modules (or `modules`) define."""
    found: dict[tuple[str, str], EntityKey] = {}
    for module in integration_modules() if modules is None else modules:
        for name, value in vars(module).items():
            where = f"{module.__name__}.{name}"
            for description in _descriptions(value):
                platform = _platform_of_description(type(description))
                key = description.translation_key
                if platform and isinstance(key, str):
                    options = getattr(description, "options", None) or ()
                    found.setdefault(
                        (platform, key),
                        EntityKey(
                            platform,
                            key,
                            where,
                            has_name=description.name is not None,
                            states=tuple(str(option) for option in options),
                        ),
                    )
            if (
                inspect.isclass(value)
                and issubclass(value, Entity)
                and value.__module__ == module.__name__
            ):
                # HA's metaclass keeps class-level _attr_ values under __attr_.
                key = value.__dict__.get("__attr_translation_key")
                platform = _platform_of_entity(value)
                if platform and isinstance(key, str):
                    found.setdefault((platform, key), EntityKey(platform, key, where))
    return sorted(found.values(), key=lambda item: (item.platform, item.key))


# --- source analysis ---------------------------------------------------------------


@dataclass
class FunctionFacts:
    """What one function or method does that a translation has to match."""

    steps: set[str] = field(default_factory=set)
    dynamic_form: bool = False
    """Shows a form whose step id is not a literal (the caller's step name)."""
    menus: dict[str, set[str]] = field(default_factory=dict)
    errors: set[str] = field(default_factory=set)
    aborts: set[str] = field(default_factory=set)
    calls: set[str] = field(default_factory=set)
    self_calls: set[str] = field(default_factory=set)
    returns: set[str] = field(default_factory=set)
    """String literals the function returns (an error key chosen by a helper)."""
    error_calls: set[str] = field(default_factory=set)
    """Functions whose result is used as a form error: {"base": _probe_error(err)}."""


@dataclass
class SourceFacts:
    """Everything read from the integration's source files."""

    functions: dict[str, FunctionFacts] = field(default_factory=dict)
    """Module-level functions, by name (names are unique enough in one package)."""
    classes: dict[str, tuple[list[str], dict[str, FunctionFacts]]] = field(
        default_factory=dict
    )
    """Classes by name: their base class names and methods."""
    selectors: dict[str, set[str] | None] = field(default_factory=dict)
    """Selector translation keys and their options (None: not known statically)."""
    exceptions: set[str] = field(default_factory=set)
    issues: set[str] = field(default_factory=set)
    entity_literals: set[str] = field(default_factory=set)
    """Literal entity translation keys anywhere: `_attr_translation_key = "x"`,
    `SomethingDescription(translation_key="x")` (also inside functions)."""


_FORM_CALLS = {"async_show_form", "async_show_progress"}
_UNIQUE_ID_ABORTS = {"_abort_if_unique_id_configured", "_async_abort_entries_match"}


def _evaluate(node: ast.expr, namespace: Mapping[str, Any]) -> Any:
    """A literal, or an expression over the module's globals; raise if neither."""
    try:
        return ast.literal_eval(node)
    except ValueError:
        pass
    code = compile(ast.Expression(node), "<inventory>", "eval")
    return eval(code, dict(namespace))  # noqa: S307 - our own source, module globals only


def _strings(node: ast.expr | None, namespace: Mapping[str, Any]) -> set[str]:
    """The string(s) an expression stands for, when that is known statically."""
    if node is None:
        return set()
    try:
        value = _evaluate(node, namespace)
    except Exception:  # noqa: BLE001 - not statically known: left out
        return set()
    if isinstance(value, str):
        return {value}
    if isinstance(value, list | tuple | set | frozenset):
        return {str(item) for item in value}
    return set()


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def _callee(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


class _FunctionReader(ast.NodeVisitor):
    """Collects the facts of one function body (nested functions included)."""

    def __init__(self, namespace: Mapping[str, Any], facts: SourceFacts) -> None:
        self.namespace = namespace
        self.source = facts
        self.facts = FunctionFacts()
        self.params: set[str] = set()
        self.assigned: dict[str, list[ast.expr]] = {}

    def read(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> FunctionFacts:
        self.params = {arg.arg for arg in [*node.args.args, *node.args.kwonlyargs]}
        for statement in ast.walk(node):
            if isinstance(statement, ast.Assign | ast.AnnAssign):
                targets = (
                    statement.targets
                    if isinstance(statement, ast.Assign)
                    else [statement.target]
                )
                for target in targets:
                    if isinstance(target, ast.Name) and statement.value is not None:
                        self.assigned.setdefault(target.id, []).append(statement.value)
        for statement in node.body:
            self.visit(statement)
        return self.facts

    def visit_Call(self, node: ast.Call) -> None:
        name = _callee(node)
        if isinstance(node.func, ast.Name):
            self.facts.calls.add(node.func.id)
        elif (
            isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "self"
        ):
            self.facts.self_calls.add(node.func.attr)
        if not self._flow_call(node, name):
            self._keyed_call(node, name)
        self.generic_visit(node)

    def _flow_call(self, node: ast.Call, name: str) -> bool:
        """A form, menu or abort of a flow; False for any other call."""
        facts = self.facts
        if name in _FORM_CALLS or name == "async_show_menu":
            step = _strings(_keyword(node, "step_id"), self.namespace)
            facts.steps |= step
            if not step and name in _FORM_CALLS:
                facts.dynamic_form = True
            if name == "async_show_menu":
                options = _strings(_keyword(node, "menu_options"), self.namespace)
                for step_id in step:
                    facts.menus.setdefault(step_id, set()).update(options)
        elif name == "async_abort":
            facts.aborts |= _strings(_keyword(node, "reason"), self.namespace)
        elif name in _UNIQUE_ID_ABORTS:
            error = _keyword(node, "error")
            facts.aborts |= (
                _strings(error, self.namespace) if error else {"already_configured"}
            )
        else:
            return False
        return True

    def _keyed_call(self, node: ast.Call, name: str) -> None:
        """Repair issues, selectors, exceptions and entity descriptions."""
        key = _keyword(node, "translation_key")
        if name in {"async_create_issue", "create_issue"}:
            self.source.issues |= _strings(key, self.namespace)
        elif name.endswith("SelectorConfig") and key is not None:
            options = _strings(_keyword(node, "options"), self.namespace)
            for selector in _strings(key, self.namespace):
                self.source.selectors[selector] = options or None
        elif _keyword(node, "translation_domain") is not None:
            self._exception_key(node)
        elif name.endswith("Description"):
            self.source.entity_literals |= _strings(key, self.namespace)

    def _exception_key(self, node: ast.Call) -> None:
        """translation_key= of an exception: a literal, a constant, or a local's values."""
        value = _keyword(node, "translation_key")
        if isinstance(value, ast.Name) and value.id in self.params:
            return  # a wrapper such as _invalid(key, ...): its callers pass the key
        if isinstance(value, ast.Name) and value.id in self.assigned:
            for expression in self.assigned[value.id]:
                for constant in ast.walk(expression):
                    if isinstance(constant, ast.Constant) and isinstance(
                        constant.value, str
                    ):
                        self.source.exceptions.add(constant.value)
            return
        self.source.exceptions |= _strings(value, self.namespace)

    def visit_Dict(self, node: ast.Dict) -> None:
        """Form errors: {"base": "x"} or {CONF_FIELD: "x"}."""
        if node.keys and all(
            (isinstance(key, ast.Constant) and key.value == "base")
            or (
                isinstance(key, ast.Name | ast.Attribute)
                and (key.id if isinstance(key, ast.Name) else key.attr).isupper()
            )
            for key in node.keys
        ):
            has_base = any(
                isinstance(key, ast.Constant) and key.value == "base"
                for key in node.keys
            )
            values = [
                value.value
                for value in node.values
                if isinstance(value, ast.Constant) and isinstance(value.value, str)
            ]
            if values and (has_base or len(values) == len(node.values)):
                self.facts.errors.update(values)
            if has_base:
                self.facts.error_calls.update(
                    value.func.id
                    for value in node.values
                    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
                )
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        """Error keys a helper picks and returns."""
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            self.facts.returns.add(node.value.value)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        """errors[FIELD] = "x"; self._attr_translation_key = "x"."""
        for target in node.targets:
            if (
                isinstance(target, ast.Attribute | ast.Name)
                and (target.attr if isinstance(target, ast.Attribute) else target.id)
                == "_attr_translation_key"
            ):
                self.source.entity_literals |= _strings(node.value, self.namespace)
            if (
                isinstance(target, ast.Subscript)
                and isinstance(target.value, ast.Name)
                and target.value.id == "errors"
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                self.facts.errors.add(node.value.value)
        self.generic_visit(node)


def _wrapper_keys(tree: ast.Module) -> dict[str, int]:
    """Functions that pass one of their parameters on as an exception's translation_key."""
    wrappers: dict[str, int] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        params = [arg.arg for arg in node.args.args]
        for call in ast.walk(node):
            if (
                not isinstance(call, ast.Call)
                or _keyword(call, "translation_domain") is None
            ):
                continue
            value = _keyword(call, "translation_key")
            if isinstance(value, ast.Name) and value.id in params:
                wrappers[node.name] = params.index(value.id)
    return wrappers


def read_source() -> SourceFacts:
    """Read every module of the integration."""
    facts = SourceFacts()
    modules = {module.__name__: module for module in integration_modules()}
    trees: list[tuple[ast.Module, ModuleType]] = []
    for module in modules.values():
        if module.__file__ is None:
            continue
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        trees.append((tree, module))
    wrappers: dict[str, int] = {}
    for tree, _module in trees:
        wrappers |= _wrapper_keys(tree)
    for tree, module in trees:
        namespace = vars(module)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                facts.functions[node.name] = _merge(
                    facts.functions.get(node.name),
                    _FunctionReader(namespace, facts).read(node),
                )
            elif isinstance(node, ast.ClassDef):
                methods = {
                    item.name: _FunctionReader(namespace, facts).read(item)
                    for item in node.body
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                }
                bases = [
                    base.id if isinstance(base, ast.Name) else ast.unparse(base)
                    for base in node.bases
                ]
                facts.classes[node.name] = (bases, methods)
            else:
                reader = _FunctionReader(namespace, facts)
                reader.visit(node)  # module-level selectors, issues, exceptions
        for call in ast.walk(tree):
            if isinstance(call, ast.Call) and _callee(call) in wrappers:
                position = wrappers[_callee(call)]
                if len(call.args) > position:
                    facts.exceptions |= _strings(call.args[position], namespace)
    return facts


def _merge(old: FunctionFacts | None, new: FunctionFacts) -> FunctionFacts:
    if old is None:
        return new
    old.steps |= new.steps
    old.dynamic_form |= new.dynamic_form
    for step, options in new.menus.items():
        old.menus.setdefault(step, set()).update(options)
    old.errors |= new.errors
    old.aborts |= new.aborts
    old.calls |= new.calls
    old.self_calls |= new.self_calls
    old.returns |= new.returns
    old.error_calls |= new.error_calls
    return old


# --- flows ---------------------------------------------------------------------------


@dataclass
class FlowFacts:
    """What one flow handler (with the helpers it calls) can show."""

    steps: set[str] = field(default_factory=set)
    menus: dict[str, set[str]] = field(default_factory=dict)
    errors: set[str] = field(default_factory=set)
    aborts: set[str] = field(default_factory=set)


def _methods(facts: SourceFacts, class_name: str) -> dict[str, FunctionFacts]:
    """A class's methods with those of its bases in the integration (own ones win)."""
    if class_name not in facts.classes:
        return {}
    bases, own = facts.classes[class_name]
    methods: dict[str, FunctionFacts] = {}
    for base in reversed(bases):
        methods |= _methods(facts, base)
    return methods | own


def flow_facts(facts: SourceFacts, class_name: str) -> FlowFacts:
    """Steps, menus, errors and aborts of a flow class, through the helpers it calls."""
    methods = _methods(facts, class_name)
    result = FlowFacts()
    for method_name, method in methods.items():
        reached = _reached(facts, methods, method)
        for current in reached:
            result.steps |= current.steps
            for step, options in current.menus.items():
                result.menus.setdefault(step, set()).update(options)
            result.errors |= current.errors
            for name in current.error_calls & facts.functions.keys():
                result.errors |= facts.functions[name].returns
            result.aborts |= current.aborts
        if method_name.startswith("async_step_") and any(
            current.dynamic_form for current in reached
        ):
            # A step that shows its form through a shared helper, with its own name.
            result.steps.add(method_name.removeprefix("async_step_"))
    return result


def _reached(
    facts: SourceFacts, methods: dict[str, FunctionFacts], start: FunctionFacts
) -> list[FunctionFacts]:
    """A method and the helpers it calls, transitively; other steps are not followed."""
    reached = [start]
    seen: set[str] = set()
    index = 0
    while index < len(reached):
        current = reached[index]
        index += 1
        for name in current.calls - seen:
            seen.add(name)
            if name in facts.functions:
                reached.append(facts.functions[name])
        for name in current.self_calls - seen:
            seen.add(name)
            if name in methods and not name.startswith("async_step_"):
                reached.append(methods[name])
    return reached


def flow_classes(facts: SourceFacts, base: str) -> list[str]:
    """Classes of the integration that derive (directly or not) from `base`."""

    def derives(name: str, seen: frozenset[str] = frozenset()) -> bool:
        if name in seen or name not in facts.classes:
            return False
        bases = facts.classes[name][0]
        return base in bases or any(derives(b, seen | {name}) for b in bases)

    return sorted(name for name in facts.classes if derives(name))
