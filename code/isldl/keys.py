"""The key of a pinned result: what it was computed from, hashed part by part.

A fit's key has five parts: the model's architecture, its initial weights, the code that its
training runs, the settings as passed to `fit`, and the data. A pin is stale when a part
differs, and `pin.json` keeps each part so that the error says which.

The code part is the code that the training reaches (`code_reached`): `isldl.fit` and every
function, class and constant of isldl that it names, and so on from those, plus the isldl
classes among the model's layers, as Python reads them (`code_text`: without docstrings and
comments). Editing a helper that no fit runs (`predict`, a benchmark's optimiser) or a
docstring keeps every pin; editing the loop stales them all.

The initial weights are kept as a fingerprint compared with a tolerance, not as a hash: the
orthogonal matrices of a recurrent layer come out different in their last bits with one
thread or two.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import io
import json
import sys
import textwrap
import tokenize
from typing import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from torch import nn


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def data_hash(*arrays) -> str:
    """A hash of the values, dtypes and shapes of arrays, tensors, sparse matrices and frames
    (tuples and lists are walked), so that the same data gives the same hash anywhere."""
    digest = hashlib.sha256()

    def add(a):
        if a is None:
            digest.update(b"none")
        elif isinstance(a, (tuple, list)):
            for item in a:
                add(item)
        elif sp.issparse(a):
            a = a.tocsr()
            for part in (a.data, a.indices, a.indptr, np.asarray(a.shape)):
                add(part)
        elif isinstance(a, (pd.DataFrame, pd.Series)):
            add(a.to_numpy())
        else:
            a = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
            digest.update(f"{a.dtype}{a.shape}".encode())
            digest.update(np.ascontiguousarray(a).tobytes())

    add(arrays)
    return digest.hexdigest()


# ------------------------------------------------------------------------------- the code


def code_text(source: str) -> str:
    """Python source as the interpreter reads it: its tokens, without comments, blank lines
    and docstrings. Tokens, not `ast.unparse`, whose output changes from one Python to the
    next; an f-string is kept as written (Python 3.12 splits it into several tokens)."""
    source = textwrap.dedent(source)
    docstrings = {(node.body[0].lineno, node.body[0].col_offset)
                  for node in ast.walk(ast.parse(source))
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                       ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)
                  and isinstance(node.body[0].value.value, str)}
    lines = source.splitlines(keepends=True)
    f_start, f_end = (getattr(tokenize, name, None) for name in ("FSTRING_START", "FSTRING_END"))
    words, open_fstrings, after_docstring = [], [], False
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == f_start:
            open_fstrings.append(token.start)
        elif token.type == f_end:
            start = open_fstrings.pop()
            if not open_fstrings:
                words.append(_text_between(lines, start, token.end))
        elif open_fstrings or token.type in _UNREAD:
            continue
        elif token.type == tokenize.STRING and token.start in docstrings:
            after_docstring = True
        elif token.type == tokenize.NEWLINE and after_docstring:
            after_docstring = False  # the docstring's own line
        else:
            after_docstring = False
            words.append(_MARKERS.get(token.type, token.string))
    return " ".join(words)


_UNREAD = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}
_MARKERS = {tokenize.NEWLINE: "<newline>", tokenize.INDENT: "<indent>",
            tokenize.DEDENT: "<dedent>"}


def _text_between(lines: list[str], start: tuple[int, int], end: tuple[int, int]) -> str:
    (first, column), (last, end_column) = start, end
    if first == last:
        return lines[first - 1][column:end_column]
    return (lines[first - 1][column:] + "".join(lines[first:last - 1])
            + lines[last - 1][:end_column])


def _is_isldl_module(module) -> bool:
    return module.__name__.split(".")[0] == "isldl"


def _is_isldl(value) -> bool:
    """Whether value is a function or class of isldl's own."""
    return ((inspect.isfunction(value) or inspect.isclass(value))
            and value.__module__.split(".")[0] == "isldl")


@functools.cache
def _module_constants(module) -> dict[str, str]:
    """{name: source} of each module-level assignment (`LOSSES = {…}`) of a module."""
    source = inspect.getsource(module)
    constants = {}
    for node in ast.parse(source).body:
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign) else [])
        for target in targets:
            if isinstance(target, ast.Name):
                constants[target.id] = ast.get_source_segment(source, node)
    return constants


def _named(source: str) -> set[tuple[str, ...]]:
    """The names a piece of code reads, with the attributes it takes of them (`train.fit`)."""
    names = set()
    for node in ast.walk(ast.parse(textwrap.dedent(source))):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            names.add((node.value.id, node.attr))
        elif isinstance(node, ast.Name):
            names.add((node.id,))
    return names


def code_reached(*roots: Callable) -> str:
    """The code that calling `roots` runs, as far as it is isldl's: each root's source, then
    that of every isldl function, class and module constant that it names (directly, or as
    an attribute of an isldl module), and so on; each as `code_text` reads it, in a fixed
    order. The libraries' code (torch's, NumPy's) counts by their versions, not here."""
    found: dict[str, str] = {}
    pending = [(root, None) for root in roots]
    while pending:
        value, constant = pending.pop()
        if constant is not None:  # (module, name) of a module-level assignment
            module, name = constant
            where, source = f"{module.__name__}.{name}", _module_constants(module)[name]
        else:
            module = sys.modules[value.__module__]
            where, source = f"{value.__module__}.{value.__qualname__}", inspect.getsource(value)
        if where in found:
            continue
        found[where] = code_text(source)
        for name, *attribute in _named(source):
            owner, target = module, getattr(module, name, None)
            if attribute and inspect.ismodule(target) and _is_isldl_module(target):
                owner, name = target, attribute[0]
                target = getattr(owner, name, None)
            if _is_isldl(target):
                pending.append((target, None))
            elif name in _module_constants(owner) and not inspect.ismodule(target):
                pending.append((None, (owner, name)))
    return "".join(f"{where}: {text}\n" for where, text in sorted(found.items()))


# ---------------------------------------------------------------------- weights, settings


FINGERPRINT_VALUES = 16  # evenly spaced values of each tensor


def weights_fingerprint(model: nn.Module) -> dict[str, list[float]]:
    """Each tensor of model's state, by name: its size, norm, and 16 evenly spaced values."""
    fingerprint = {}
    for name, tensor in model.state_dict().items():
        values = tensor.detach().cpu().double().flatten()
        picked = values[torch.linspace(0, len(values) - 1, FINGERPRINT_VALUES).long()]
        fingerprint[name] = [len(values), values.norm().item(), *picked.tolist()]
    return fingerprint


def same_weights(saved: dict, now: dict) -> bool:
    """Whether two fingerprints agree to float32 rounding (rtol 1e-5, atol 1e-6)."""
    return isinstance(saved, dict) and saved.keys() == now.keys() and all(
        len(saved[k]) == len(now[k]) and np.allclose(saved[k], now[k], rtol=1e-5, atol=1e-6)
        for k in now)


def settings_hash(settings: dict) -> str:
    """The key's hash of settings; an object among them (an optimizer) counts by its repr."""
    return sha(json.dumps(settings, sort_keys=True, default=str).encode())


# ------------------------------------------------------------------------------- the keys


def fit_code(model: nn.Module) -> str:
    """The code that `isldl.fit` runs to train `model`: the loop's, and that of every isldl
    class among model's layers (a `KerasSimpleRNN` inside an `nn.Sequential` counts)."""
    from .train import fit

    classes = {type(m) for m in model.modules() if _is_isldl(type(m))}
    return code_reached(fit, *sorted(classes, key=lambda cls: cls.__qualname__))


def fit_key(model: nn.Module, data: tuple, settings: dict) -> dict:
    """Each part of a fit's key: what the model is, how it is trained, on what."""
    return {
        "architecture": sha(repr(model).encode()),
        "initial_weights": weights_fingerprint(model),
        "code": sha(fit_code(model).encode()),
        "settings": settings_hash(settings),
        "data": data_hash(*data),
    }


def result_key(function: Callable, args: tuple, settings: dict) -> dict:
    """Each part of the key of a computation's result: its code, its settings, its data."""
    return {"code": sha(code_reached(function).encode()), "settings": settings_hash(settings),
            "data": data_hash(*args)}


def changed_parts(saved: dict, now: dict) -> list[str]:
    """The parts of a key that differ between pin.json's `saved` and `now`."""
    return [part for part, value in now.items()
            if not (same_weights(saved.get(part), value) if part == "initial_weights"
                    else saved.get(part) == value)]
